"""Where generated code runs: no secret reaches it, and a process that outlives its time
or its memory is stopped, with everything it started; the same for a new interpreter
and for a child of the warm interpreter (`warm=True`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from specloom.pipeline.cancel import Cancelled, CancelToken
from specloom.verify import sandbox
from specloom.verify.sandbox import Limits

FORKED = "import sys; assert 'fastapi' in sys.modules, 'not forked from the zygote'\n"


@pytest.fixture(params=[False, True], ids=["new", "warm"])
def warm(request: pytest.FixtureRequest) -> bool:
    """Each test twice: a new interpreter, then a child of the warm one."""
    return bool(request.param)


def program(code: str, warm: bool) -> str:
    """`code`, checking first (when warm) that it runs in a zygote's child."""
    return (FORKED if warm else "") + code


async def test_secrets_and_store_urls_never_reach_generated_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm: bool
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("SPECLOOM_STORE_URL", "postgresql://u:secret@db/specloom")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    # what the process was started with too (a zygote's child inherits the zygote's)
    code = program(
        "import json, os\n"
        "assert b'secret' not in open('/proc/self/environ', 'rb').read()\n"
        "print(json.dumps(dict(os.environ)))",
        warm,
    )
    done = await sandbox.run(
        [sys.executable, "-c", code],
        tmp_path,
        env={"DATABASE_URL": "sqlite:///app.db"},
        warm=warm,
    )
    assert done.ok, done.stderr
    assert "secret" not in done.stdout
    seen = __import__("json").loads(done.stdout)
    assert seen["DATABASE_URL"] == "sqlite:///app.db"
    assert set(seen) <= {*sandbox.INHERITED, "DATABASE_URL", "PYTHONDONTWRITEBYTECODE",
                         "PYTHONUNBUFFERED", "LC_CTYPE"}  # fmt: skip


async def test_a_process_past_its_time_is_killed_with_its_children(
    tmp_path: Path, warm: bool
) -> None:
    pids = tmp_path / "pids"
    code = program(
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)\n",
        warm,
    )
    done = await sandbox.run(
        [sys.executable, "-c", code], tmp_path, limits=Limits(seconds=2), warm=warm
    )
    assert done.timed_out
    assert done.seconds < 15
    for pid in map(int, pids.read_text().split()):
        assert not running(pid)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped (init reaps orphans when it can)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


async def test_a_process_past_its_memory_fails_instead_of_taking_the_machine(
    tmp_path: Path, warm: bool
) -> None:
    code = program("data = bytearray(3 * 1024 ** 3)", warm)
    done = await sandbox.run(
        [sys.executable, "-c", code],
        tmp_path,
        limits=Limits(seconds=30, memory_mb=1024),
        warm=warm,
    )
    assert not done.ok
    assert "MemoryError" in done.stderr


async def test_cancelling_the_run_stops_the_process(tmp_path: Path, warm: bool) -> None:
    cancel = CancelToken()
    import asyncio

    asyncio.get_running_loop().call_later(0.5, cancel.cancel, "stop")
    with pytest.raises(Cancelled):
        await sandbox.run(
            [sys.executable, "-c", program("import time; time.sleep(60)", warm)],
            tmp_path,
            cancel=cancel,
            warm=warm,
        )
