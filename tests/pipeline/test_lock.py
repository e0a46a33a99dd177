"""One run per workspace: a second one is refused with a clear message."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from specloom.pipeline.lock import WorkspaceBusy, WorkspaceLock


def test_a_second_run_on_the_same_workspace_is_refused(tmp_path: Path) -> None:
    first = WorkspaceLock(tmp_path)
    first.acquire("run-1")
    try:
        with pytest.raises(WorkspaceBusy, match=r"another Specloom run is in progress.*run-1"):
            WorkspaceLock(tmp_path).acquire("run-2")
    finally:
        first.release()
    second = WorkspaceLock(tmp_path)
    second.acquire("run-2")
    second.release()


def test_a_killed_run_does_not_leave_the_workspace_locked(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from specloom.pipeline.lock import WorkspaceLock;"
            "WorkspaceLock(Path(sys.argv[1])).acquire('held'); print('locked', flush=True);"
            "time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WorkspaceBusy):
            WorkspaceLock(tmp_path).acquire("mine")
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5
    while True:
        try:
            lock = WorkspaceLock(tmp_path)
            lock.acquire("mine")
            lock.release()
            break
        except WorkspaceBusy:
            assert time.monotonic() < deadline
            time.sleep(0.05)
