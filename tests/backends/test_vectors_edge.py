"""What is Qdrant Edge's own: a collection belongs to one process at a time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from specloom.backends.errors import BackendUnavailable
from specloom.backends.vectors_edge import EdgeVectors

HOLD_A_COLLECTION = textwrap.dedent(
    """
    import asyncio, pathlib, sys
    from specloom.backends.vectors_edge import EdgeVectors

    async def main():
        store = EdgeVectors.open(pathlib.Path(sys.argv[1]))
        await store.ensure("patterns", 4)
        print("ready", flush=True)
        sys.stdin.readline()
        await store.close()

    asyncio.run(main())
    """
)


async def test_a_collection_another_process_holds_is_reported_in_use(tmp_path: Path) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD_A_COLLECTION,
        str(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"ready\n"
        store = EdgeVectors.open(tmp_path)
        with pytest.raises(BackendUnavailable, match="in use by another process"):
            await store.count("patterns")
        await store.close()
    finally:
        holder.stdin.write(b"\n")
        await holder.stdin.drain()
        await asyncio.wait_for(holder.wait(), 30)
