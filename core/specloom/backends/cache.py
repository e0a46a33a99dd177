"""The cache, the run lock and live run state: three interfaces, two implementations.

- `Cache`: values (anything JSON can hold) by key, each with a time to live: the
  query cache of retrieval.
- `RunLock`: one holder per workspace. `acquire` waits up to `timeout_s` and gives a
  `Lease` (the owner, a token only the holder knows, and the time it runs out);
  `release` and `refresh` need the token. A lease runs out after `ttl_s` unless
  refreshed, so a holder that died does not block the workspace forever.
- `RunState`: a run's live state (a JSON object) by run id, with a time to live, and
  the list of runs that have one: what another process shows of a run in flight.

`MemoryLive` (here), the embedded default, keeps them in this process: its lock
excludes holders within the process only (across processes, the workspace's file lock,
`pipeline/lock.py`, does that), and its state is not visible to another process.
`RedisLive` (`cache_redis.py`) keeps them on a Redis server (`SPECLOOM_CACHE_URL`),
shared by every process that uses it. Times are measured with the monotonic clock
here, and by the server's clock on Redis.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from specloom.pipeline.lock import WorkspaceBusy

LOCK_POLL_S = 0.05
"""How often a waiting `acquire` tries again."""


class LockBusy(WorkspaceBusy):
    """The workspace's run lock is held by another owner (named in the message)."""


@dataclass(frozen=True)
class Lease:
    """A held run lock: the workspace, who holds it, and the token that proves it."""

    workspace: str
    owner: str
    token: str


class Cache(Protocol):
    async def get(self, key: str) -> Any | None:
        """The value under `key`, or None when there is none or it has expired."""
        ...

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        """Keep `value` (JSON) under `key` for `ttl_s` seconds."""

    async def delete(self, key: str) -> None: ...


class RunLock(Protocol):
    async def acquire(
        self, workspace: str, owner: str, *, ttl_s: float = 60.0, timeout_s: float = 0.0
    ) -> Lease:
        """Hold the workspace's lock for `ttl_s` seconds, waiting up to `timeout_s` for
        it; raises `LockBusy` (naming the holder) when it stays held."""
        ...

    async def release(self, lease: Lease) -> bool:
        """Let go of the lock; False when the lease had already run out (and the lock
        may be someone else's: it is left alone)."""
        ...

    async def refresh(self, lease: Lease, ttl_s: float) -> bool:
        """Hold the lock `ttl_s` seconds from now; False when the lease ran out."""
        ...

    async def holder(self, workspace: str) -> str | None:
        """Who holds the workspace's lock, or None."""
        ...


class RunState(Protocol):
    async def put(self, run_id: str, state: dict[str, Any], ttl_s: float = 3600.0) -> None:
        """Publish the run's live state (JSON), kept `ttl_s` seconds after this write."""

    async def get(self, run_id: str) -> dict[str, Any] | None: ...

    async def remove(self, run_id: str) -> None:
        """The run ended: forget its live state."""

    async def in_flight(self) -> list[str]:
        """The ids of the runs with a live state, sorted."""
        ...


class Live(Protocol):
    """The three, from one place (one connection on Redis)."""

    name: str
    cache: Cache
    lock: RunLock
    state: RunState

    async def close(self) -> None: ...


def new_token(owner: str) -> str:
    """A lease's token: random, and naming its owner (after the first space)."""
    return f"{secrets.token_hex(12)} {owner}"


def owner_of(token: str) -> str:
    return token.partition(" ")[2]


def busy(workspace: str, holder: str | None) -> LockBusy:
    return LockBusy(
        f"another Specloom run holds workspace {workspace}"
        + (f" ({holder})" if holder else "")
        + ": wait for it to end, or cancel it"
    )


@dataclass
class _Expiring:
    """Values with a deadline on the monotonic clock."""

    entries: dict[str, tuple[str, float]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self.entries[key]
            return None
        return entry[0]

    def set(self, key: str, value: str, ttl_s: float) -> None:
        self.entries[key] = (value, time.monotonic() + ttl_s)

    def keys(self) -> list[str]:
        return [key for key in list(self.entries) if self.get(key) is not None]


class MemoryCache:
    """The cache in a dict. Values are stored as JSON, so what comes back is a copy, as
    from Redis."""

    def __init__(self) -> None:
        self._values = _Expiring()

    async def get(self, key: str) -> Any | None:
        text = self._values.get(key)
        return None if text is None else json.loads(text)

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        self._values.set(key, json.dumps(value), ttl_s)

    async def delete(self, key: str) -> None:
        self._values.entries.pop(key, None)


class MemoryRunLock:
    """Run locks in a dict: exclusive within this process."""

    def __init__(self) -> None:
        self._tokens = _Expiring()
        self._guard = asyncio.Lock()

    async def acquire(
        self, workspace: str, owner: str, *, ttl_s: float = 60.0, timeout_s: float = 0.0
    ) -> Lease:
        deadline = time.monotonic() + timeout_s
        token = new_token(owner)
        while True:
            async with self._guard:
                held = self._tokens.get(workspace)
                if held is None:
                    self._tokens.set(workspace, token, ttl_s)
                    return Lease(workspace, owner, token)
            if time.monotonic() >= deadline:
                raise busy(workspace, owner_of(held))
            await asyncio.sleep(min(LOCK_POLL_S, max(0.0, deadline - time.monotonic())))

    async def release(self, lease: Lease) -> bool:
        async with self._guard:
            if self._tokens.get(lease.workspace) != lease.token:
                return False
            del self._tokens.entries[lease.workspace]
            return True

    async def refresh(self, lease: Lease, ttl_s: float) -> bool:
        async with self._guard:
            if self._tokens.get(lease.workspace) != lease.token:
                return False
            self._tokens.set(lease.workspace, lease.token, ttl_s)
            return True

    async def holder(self, workspace: str) -> str | None:
        token = self._tokens.get(workspace)
        return None if token is None else owner_of(token)


class MemoryRunState:
    """Live run states in a dict: visible within this process only."""

    def __init__(self) -> None:
        self._states = _Expiring()

    async def put(self, run_id: str, state: dict[str, Any], ttl_s: float = 3600.0) -> None:
        self._states.set(run_id, json.dumps(state), ttl_s)

    async def get(self, run_id: str) -> dict[str, Any] | None:
        text = self._states.get(run_id)
        if text is None:
            return None
        state: dict[str, Any] = json.loads(text)
        return state

    async def remove(self, run_id: str) -> None:
        self._states.entries.pop(run_id, None)

    async def in_flight(self) -> list[str]:
        return sorted(self._states.keys())


class MemoryLive:
    """Cache, run lock and run state in this process."""

    name = "memory"

    def __init__(self) -> None:
        self.cache: Cache = MemoryCache()
        self.lock: RunLock = MemoryRunLock()
        self.state: RunState = MemoryRunState()

    def __repr__(self) -> str:
        return "MemoryLive()"

    async def close(self) -> None:
        """Nothing to release."""
