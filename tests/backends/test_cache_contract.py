"""The cache's, run lock's and run state's contract, on every implementation (see
conftest.py). The in-process implementation is one process's: what another process
sees is tested on Redis only."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest
from specloom.backends.cache import Live, LockBusy

from tests.backends.conftest import REDIS_URL, OpenLive

SHORT_TTL_S = 0.2
PAST_SHORT_TTL_S = 0.4


# --- cache --------------------------------------------------------------------------


async def test_a_cached_value_comes_back_equal(live: Live) -> None:
    value = {"hits": [{"id": "task:create-book", "score": 0.93}], "n": 1}
    await live.cache.set("query:1", value, ttl_s=60)
    assert await live.cache.get("query:1") == value
    assert await live.cache.get("query:2") is None


async def test_a_cached_value_expires_after_its_ttl(live: Live) -> None:
    await live.cache.set("query:1", [1, 2], ttl_s=SHORT_TTL_S)
    await live.cache.set("query:2", [3], ttl_s=60)
    await asyncio.sleep(PAST_SHORT_TTL_S)
    assert await live.cache.get("query:1") is None
    assert await live.cache.get("query:2") == [3]


async def test_a_deleted_value_is_gone(live: Live) -> None:
    await live.cache.set("query:1", "x", ttl_s=60)
    await live.cache.delete("query:1")
    await live.cache.delete("query:never-set")
    assert await live.cache.get("query:1") is None


# --- run lock -----------------------------------------------------------------------


async def test_a_held_lock_refuses_a_second_holder_and_names_the_first(live: Live) -> None:
    lease = await live.lock.acquire("/ws/shop", "run A")
    assert (lease.owner, await live.lock.holder("/ws/shop")) == ("run A", "run A")
    with pytest.raises(LockBusy, match="run A"):
        await live.lock.acquire("/ws/shop", "run B")
    other = await live.lock.acquire("/ws/other", "run B")  # one lock per workspace
    assert other.owner == "run B"


async def test_a_released_lock_can_be_taken(live: Live) -> None:
    lease = await live.lock.acquire("/ws/shop", "run A")
    assert await live.lock.release(lease) is True
    assert await live.lock.holder("/ws/shop") is None
    assert (await live.lock.acquire("/ws/shop", "run B")).owner == "run B"


async def test_a_waiting_acquire_gets_the_lock_when_it_is_released(live: Live) -> None:
    lease = await live.lock.acquire("/ws/shop", "run A")
    waiting = asyncio.create_task(live.lock.acquire("/ws/shop", "run B", timeout_s=5))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await live.lock.release(lease)
    assert (await asyncio.wait_for(waiting, 5)).owner == "run B"


async def test_a_waiting_acquire_gives_up_after_its_timeout(live: Live) -> None:
    await live.lock.acquire("/ws/shop", "run A")
    started = asyncio.get_running_loop().time()
    with pytest.raises(LockBusy):
        await live.lock.acquire("/ws/shop", "run B", timeout_s=0.2)
    assert 0.15 <= asyncio.get_running_loop().time() - started < 2


async def test_a_lease_that_ran_out_frees_the_lock_and_cannot_free_the_next(live: Live) -> None:
    dead = await live.lock.acquire("/ws/shop", "run A", ttl_s=SHORT_TTL_S)
    await asyncio.sleep(PAST_SHORT_TTL_S)
    assert await live.lock.holder("/ws/shop") is None
    lease = await live.lock.acquire("/ws/shop", "run B")
    assert await live.lock.release(dead) is False
    assert await live.lock.refresh(dead, 60) is False
    assert await live.lock.holder("/ws/shop") == "run B"
    assert await live.lock.release(lease) is True


async def test_a_refreshed_lease_outlives_its_first_ttl(live: Live) -> None:
    lease = await live.lock.acquire("/ws/shop", "run A", ttl_s=SHORT_TTL_S)
    assert await live.lock.refresh(lease, 60) is True
    await asyncio.sleep(PAST_SHORT_TTL_S)
    assert await live.lock.holder("/ws/shop") == "run A"


# --- run state ----------------------------------------------------------------------


async def test_a_runs_state_is_readable_until_removed(live: Live) -> None:
    await live.state.put("run-2", {"phase": 6, "percent": 40})
    await live.state.put("run-1", {"phase": 2, "percent": 10})
    await live.state.put("run-1", {"phase": 3, "percent": 20})
    assert await live.state.get("run-1") == {"phase": 3, "percent": 20}
    assert await live.state.in_flight() == ["run-1", "run-2"]
    await live.state.remove("run-1")
    assert await live.state.get("run-1") is None
    assert await live.state.in_flight() == ["run-2"]


async def test_a_runs_state_expires_after_its_ttl(live: Live) -> None:
    await live.state.put("run-1", {"phase": 6}, ttl_s=SHORT_TTL_S)
    await asyncio.sleep(PAST_SHORT_TTL_S)
    assert await live.state.get("run-1") is None
    assert await live.state.in_flight() == []


# --- another client, another process (Redis) ----------------------------------------


def shared_only(live: Live) -> None:
    if live.name == "memory":
        pytest.skip("the in-process store is one process's by design: nothing to share")


async def test_a_second_client_sees_state_and_lock_of_the_first(open_live: OpenLive) -> None:
    first = await open_live()
    shared_only(first)
    second = await open_live()
    await first.state.put("run-1", {"phase": 9})
    await first.lock.acquire("/ws/shop", "run-1")
    await first.cache.set("query:1", [1], ttl_s=60)
    assert await second.state.get("run-1") == {"phase": 9}
    assert await second.state.in_flight() == ["run-1"]
    assert await second.cache.get("query:1") == [1]
    with pytest.raises(LockBusy, match="run-1"):
        await second.lock.acquire("/ws/shop", "run-2")


READ_FROM_ANOTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, json, sys
    from specloom.backends.cache_redis import RedisLive

    async def main():
        live = await RedisLive.open(sys.argv[1], prefix=sys.argv[2])
        try:
            print(json.dumps({
                "state": await live.state.get("run-1"),
                "holder": await live.lock.holder("/ws/shop"),
            }))
        finally:
            await live.close()

    asyncio.run(main())
    """
)


async def test_another_process_sees_a_runs_state_and_lock_holder(live: Live) -> None:
    shared_only(live)
    await live.state.put("run-1", {"phase": 10, "percent": 95})
    await live.lock.acquire("/ws/shop", "run-1")
    prefix: str = live.prefix  # type: ignore[attr-defined]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        READ_FROM_ANOTHER_PROCESS,
        REDIS_URL,
        prefix,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == {"state": {"phase": 10, "percent": 95}, "holder": "run-1"}
