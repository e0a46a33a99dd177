"""One run per workspace at a time: an OS file lock under `.specloom/`.

The lock dies with its process, so a killed run never leaves a workspace locked.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from types import TracebackType


class WorkspaceBusy(Exception):
    """Another run holds the workspace."""


class WorkspaceLock:
    def __init__(self, workspace: Path) -> None:
        self.path = workspace / ".specloom" / "run.lock"
        self._handle: int | None = None

    def acquire(self, run_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(handle)
            os.close(handle)
            raise WorkspaceBusy(
                f"another Specloom run is in progress in {self.path.parent.parent}"
                + (f" (run {holder['run']}, process {holder['pid']})" if holder else "")
                + ": wait for it to end, or cancel it"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, json.dumps({"run": run_id, "pid": os.getpid()}).encode())
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None

    def __enter__(self) -> WorkspaceLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(handle: int) -> dict[str, object] | None:
    try:
        raw = os.pread(handle, 4096, 0)
        value = json.loads(raw.decode() or "null")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
