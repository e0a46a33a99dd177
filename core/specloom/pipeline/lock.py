"""One run per workspace at a time: an OS file lock under `.specloom/`, and, where
Redis is configured (`SPECLOOM_CACHE_URL`), the backends' run lock too, so that
servers on several machines sharing the workspaces run one pipeline per workspace.

The file lock dies with its process, so a killed run never leaves a workspace locked;
the Redis lease runs out (60 s) unless the run refreshes it (every 20 s).
"""

from __future__ import annotations

import asyncio
import contextlib
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


LEASE_SECONDS = 60.0
REFRESH_SECONDS = 20.0


class SharedLock:
    """The workspace's run lock on Redis, held while a run runs."""

    def __init__(self, live: object, lease: object) -> None:
        self.live = live
        self.lease = lease
        self._refresher = asyncio.ensure_future(self._refresh())

    @classmethod
    async def acquire(cls, workspace: Path, run_id: str) -> SharedLock | None:
        """The lock, or None where no Redis is configured. Raises `WorkspaceBusy` (the
        backends' `LockBusy`, naming the holder) when another run holds it."""
        from specloom.backends.config import BackendSettings, open_live

        settings = BackendSettings.from_env()
        if not settings.cache_url:
            return None
        live = await open_live(settings)
        try:
            lease = await live.lock.acquire(str(workspace), run_id, ttl_s=LEASE_SECONDS)
        except BaseException:
            await live.close()
            raise
        return cls(live, lease)

    async def _refresh(self) -> None:
        from specloom.backends.cache import Lease, Live

        assert isinstance(self.lease, Lease)
        live: Live = self.live  # type: ignore[assignment]
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            if not await live.lock.refresh(self.lease, LEASE_SECONDS):
                return

    async def release(self) -> None:
        from specloom.backends.cache import Lease, Live

        self._refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._refresher
        live: Live = self.live  # type: ignore[assignment]
        try:
            if isinstance(self.lease, Lease):
                await live.lock.release(self.lease)
        finally:
            await live.close()
