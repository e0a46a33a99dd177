"""Cache, run lock and live run state on a Redis server (`redis.asyncio`).

Every key starts with a prefix (`specloom:` unless given), then the role:
`cache:<key>`, `lock:<workspace>`, `run:<run id>`. Each is a string with an expiry
(`PX`), so Redis itself forgets values, leases and states whose time ran out.

The lock is `SET NX PX` with the lease's token as the value; `release` and `refresh`
are Lua scripts that act only when the value is still that token, so a holder whose
lease ran out (and was taken by another) cannot free or extend the new holder's lock.
`redis` is imported by `open()`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from specloom.backends.cache import (
    LOCK_POLL_S,
    Cache,
    Lease,
    RunLock,
    RunState,
    busy,
    new_token,
    owner_of,
)
from specloom.backends.errors import mask_url, unavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

CONNECT_TIMEOUT_S = 3.0
DEFAULT_PREFIX = "specloom:"

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisCache:
    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix + "cache:"

    async def get(self, key: str) -> Any | None:
        text = await self.client.get(self.prefix + key)
        return None if text is None else json.loads(text)

    async def set(self, key: str, value: Any, ttl_s: float) -> None:
        await self.client.set(self.prefix + key, json.dumps(value), px=_ms(ttl_s))

    async def delete(self, key: str) -> None:
        await self.client.delete(self.prefix + key)


class RedisRunLock:
    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix + "lock:"
        self._release = client.register_script(_RELEASE)
        self._refresh = client.register_script(_REFRESH)

    async def acquire(
        self, workspace: str, owner: str, *, ttl_s: float = 60.0, timeout_s: float = 0.0
    ) -> Lease:
        deadline = time.monotonic() + timeout_s
        token = new_token(owner)
        key = self.prefix + workspace
        while True:
            if await self.client.set(key, token, nx=True, px=_ms(ttl_s)):
                return Lease(workspace, owner, token)
            if time.monotonic() >= deadline:
                raise busy(workspace, await self.holder(workspace))
            await asyncio.sleep(min(LOCK_POLL_S, max(0.0, deadline - time.monotonic())))

    async def release(self, lease: Lease) -> bool:
        done = await self._release(keys=[self.prefix + lease.workspace], args=[lease.token])
        return bool(done)

    async def refresh(self, lease: Lease, ttl_s: float) -> bool:
        key = self.prefix + lease.workspace
        done = await self._refresh(keys=[key], args=[lease.token, _ms(ttl_s)])
        return bool(done)

    async def holder(self, workspace: str) -> str | None:
        token = await self.client.get(self.prefix + workspace)
        return None if token is None else owner_of(str(token))


class RedisRunState:
    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix + "run:"

    async def put(self, run_id: str, state: dict[str, Any], ttl_s: float = 3600.0) -> None:
        await self.client.set(self.prefix + run_id, json.dumps(state), px=_ms(ttl_s))

    async def get(self, run_id: str) -> dict[str, Any] | None:
        text = await self.client.get(self.prefix + run_id)
        if text is None:
            return None
        state: dict[str, Any] = json.loads(text)
        return state

    async def remove(self, run_id: str) -> None:
        await self.client.delete(self.prefix + run_id)

    async def in_flight(self) -> list[str]:
        pattern = _glob_escape(self.prefix) + "*"
        found = [str(key) async for key in self.client.scan_iter(match=pattern, count=500)]
        return sorted(key.removeprefix(self.prefix) for key in found)


class RedisLive:
    """Cache, run lock and run state on one Redis connection pool."""

    name = "redis"

    def __init__(self, client: Redis, where: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.where = where
        self.prefix = prefix
        self.cache: Cache = RedisCache(client, prefix)
        self.lock: RunLock = RedisRunLock(client, prefix)
        self.state: RunState = RedisRunState(client, prefix)

    @classmethod
    async def open(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisLive:
        """The Redis server at `url`, checked with a PING. Raises `BackendUnavailable`
        when it cannot be reached."""
        from redis.asyncio import Redis

        try:
            client = Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=CONNECT_TIMEOUT_S,
                socket_timeout=CONNECT_TIMEOUT_S,
            )
        except ValueError as error:  # not a Redis URL
            raise unavailable("cache", url, error) from None
        try:
            await client.ping()
        except Exception as error:  # redis' ConnectionError, TimeoutError, AuthenticationError
            await client.aclose()
            raise unavailable("cache", url, error) from None
        return cls(client, mask_url(url), prefix)

    def __repr__(self) -> str:
        return f"RedisLive({self.where!r})"

    async def close(self) -> None:
        await self.client.aclose()


def _glob_escape(text: str) -> str:
    """`text` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
