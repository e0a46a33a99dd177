"""The task scheduler: levels, bounded parallelism, retries, failures, cancellation."""

from __future__ import annotations

import asyncio
import random

import pytest
from specloom.pipeline.cancel import Cancelled, CancelToken
from specloom.pipeline.records import TaskRecord
from specloom.pipeline.scheduler import (
    RetryableError,
    RetryPolicy,
    TaskContext,
    TaskFailed,
    TaskRunner,
)
from specloom.plan.model import Plan, SemanticSignature, Task

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


def make_plan(levels: list[list[str]]) -> Plan:
    tasks = [
        Task(
            id=task_id,
            kind="model",
            title=task_id,
            subject=task_id,
            signature=SemanticSignature(purpose=task_id),
            signature_hash=task_id,
            level=number,
        )
        for number, level in enumerate(levels)
        for task_id in level
    ]
    return Plan(tasks=tasks, levels=levels)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    async def __call__(self, record: TaskRecord, what: str) -> None:
        self.events.append((record.task_id, what, record.status))


async def test_every_level_finishes_before_the_next_starts() -> None:
    order: list[str] = []

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        order.append(f"start {task.id}")
        await asyncio.sleep(0.01 if task.id == "a" else 0)
        order.append(f"end {task.id}")
        return []

    plan = make_plan([["a", "b"], ["c"]])
    await TaskRunner(handler, Recorder(), CancelToken(), retry=FAST).run(plan, set())
    assert order.index("start c") > order.index("end a")
    assert order.index("start c") > order.index("end b")


async def test_no_more_tasks_run_at_once_than_the_concurrency_allows() -> None:
    running = 0
    peak = 0

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        running -= 1
        return []

    plan = make_plan([[f"t{i}" for i in range(12)]])
    runner = TaskRunner(handler, Recorder(), CancelToken(), concurrency=3, retry=FAST)
    records = await runner.run(plan, set())
    assert peak == 3
    assert len(records) == 12


async def test_a_retryable_error_is_retried_until_it_passes() -> None:
    calls = 0

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RetryableError("the database is busy")
        return ["out.txt"]

    recorder = Recorder()
    records = await TaskRunner(handler, recorder, CancelToken(), retry=FAST).run(
        make_plan([["a"]]), set()
    )
    assert calls == 3
    assert records[0].attempts == 3
    assert records[0].status == "passed"
    assert records[0].outputs == ["out.txt"]


async def test_a_task_that_keeps_failing_fails_the_run_with_its_reason() -> None:
    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        raise RetryableError("timed out")

    with pytest.raises(TaskFailed) as failure:
        await TaskRunner(handler, Recorder(), CancelToken(), retry=FAST).run(
            make_plan([["a"]]), set()
        )
    assert failure.value.task_id == "a"
    assert "timed out (after 3 attempts)" in str(failure.value)


async def test_an_ordinary_error_is_not_retried_and_names_the_task() -> None:
    calls = 0

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        nonlocal calls
        calls += 1
        raise ValueError("bad template")

    with pytest.raises(TaskFailed, match="task a failed: ValueError: bad template"):
        await TaskRunner(handler, Recorder(), CancelToken(), retry=FAST).run(
            make_plan([["a"], ["b"]]), set()
        )
    assert calls == 1


async def test_a_failed_task_stops_the_levels_after_its_own() -> None:
    seen: list[str] = []

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        seen.append(task.id)
        if task.id == "a":
            raise ValueError("broken")
        return []

    with pytest.raises(TaskFailed):
        await TaskRunner(handler, Recorder(), CancelToken(), retry=FAST).run(
            make_plan([["a", "b"], ["c"]]), set()
        )
    assert sorted(seen) == ["a", "b"]


async def test_cancelling_between_tasks_runs_no_further_task() -> None:
    cancel = CancelToken()
    seen: list[str] = []

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        seen.append(task.id)
        cancel.cancel("stop")
        return []

    with pytest.raises(Cancelled):
        await TaskRunner(handler, Recorder(), cancel, concurrency=1, retry=FAST).run(
            make_plan([["a", "b"], ["c"]]), set()
        )
    assert seen == ["a"]


async def test_tasks_already_done_are_not_run_again() -> None:
    seen: list[str] = []

    async def handler(task: Task, ctx: TaskContext) -> list[str]:
        seen.append(task.id)
        return []

    await TaskRunner(handler, Recorder(), CancelToken(), retry=FAST).run(
        make_plan([["a", "b"], ["c"]]), {"a", "c"}
    )
    assert seen == ["b"]


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.1, max_delay=1.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0)]:
        delays = {policy.delay(attempt, rng) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter: not all the same
