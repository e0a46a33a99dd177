"""Running a plan's tasks: level by level, the tasks of one level in parallel with
bounded concurrency, retried with exponential backoff and jitter when their error
says a retry may help, and stopped between tasks when the run is cancelled.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn

from specloom.pipeline.cancel import Cancelled, CancelToken
from specloom.pipeline.records import TaskRecord, utc_now
from specloom.plan.model import Plan, Task


class RetryableError(Exception):
    """A task error that another attempt may not meet (a timeout, a busy resource)."""


class TaskFailed(Exception):
    """A task failed for good; the message says which and why."""

    def __init__(self, task_id: str, message: str) -> None:
        super().__init__(f"task {task_id} failed: {message}")
        self.task_id = task_id
        self.reason = message


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based): exponential, capped,
        with 'equal jitter' so that retries of many tasks do not fall in step."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass
class TaskContext:
    """What a task handler gets besides its task."""

    cancel: CancelToken
    attempt: int
    report: Callable[[str], Awaitable[None]]


TaskHandler = Callable[[Task, TaskContext], Awaitable[list[str]]]
TaskListener = Callable[[TaskRecord, str], Awaitable[None]]


@dataclass
class TaskRunner:
    handler: TaskHandler
    listener: TaskListener
    cancel: CancelToken
    concurrency: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random = field(default_factory=random.Random)

    async def run(self, plan: Plan, done: set[str]) -> list[TaskRecord]:
        """Run every task of the plan not in `done`; raises TaskFailed or Cancelled."""
        by_id = {task.id: task for task in plan.tasks}
        records: list[TaskRecord] = []
        semaphore = asyncio.Semaphore(max(1, self.concurrency))
        for level in plan.levels:
            self.cancel.raise_if_cancelled()
            pending = [by_id[task_id] for task_id in level if task_id not in done]
            results = await asyncio.gather(
                *(self._guarded(task, semaphore) for task in pending), return_exceptions=True
            )
            failure: TaskFailed | None = None
            for task, result in zip(pending, results, strict=True):
                if isinstance(result, TaskRecord):
                    records.append(result)
                    done.add(task.id)
                elif isinstance(result, TaskFailed):
                    failure = failure or result
                elif isinstance(result, BaseException):
                    raise result
            if failure is not None:
                raise failure
        return records

    async def _guarded(self, task: Task, semaphore: asyncio.Semaphore) -> TaskRecord:
        async with semaphore:
            self.cancel.raise_if_cancelled()
            return await self._attempts(task)

    async def _attempts(self, task: Task) -> TaskRecord:
        record = TaskRecord(task_id=task.id, kind=task.kind, level=task.level, status="running")
        record.started_at = utc_now()
        started = time.perf_counter()
        for attempt in range(1, self.retry.attempts + 1):
            record.attempts = attempt
            await self.listener(record, "started")

            async def report(message: str, record: TaskRecord = record) -> None:
                await self.listener(record.model_copy(update={"error": message}), "progressed")

            try:
                record.outputs = await self.handler(
                    task, TaskContext(cancel=self.cancel, attempt=attempt, report=report)
                )
            except Cancelled:
                record.status = "cancelled"
                await self._finish(record, started, "cancelled")
                raise
            except RetryableError as error:
                if attempt < self.retry.attempts:
                    record.error = f"attempt {attempt} failed ({error}); retrying"
                    await asyncio.sleep(self.retry.delay(attempt, self.rng))
                    self.cancel.raise_if_cancelled()
                    continue
                await self._fail(record, started, f"{error} (after {attempt} attempts)")
            except Exception as error:  # a task's own bug fails the task, not the server
                await self._fail(record, started, f"{type(error).__name__}: {error}")
            record.status = "passed"
            record.error = ""
            await self._finish(record, started, "finished")
            return record
        raise AssertionError("unreachable: the loop returns or raises")

    async def _fail(self, record: TaskRecord, started: float, message: str) -> NoReturn:
        record.status = "failed"
        record.error = message
        await self._finish(record, started, "finished")
        raise TaskFailed(record.task_id, message)

    async def _finish(self, record: TaskRecord, started: float, what: str) -> None:
        record.finished_at = utc_now()
        record.duration_ms = (time.perf_counter() - started) * 1000
        await self.listener(record, what)
