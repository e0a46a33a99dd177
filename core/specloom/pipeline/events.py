"""Typed run events, and the bus that hands them to every subscriber.

The CLI's progress bar and the language server's `$/progress` are two subscribers
of the same events. A subscriber that raises is logged and dropped from that
event; the run goes on.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField

from specloom.pipeline.records import RunStatus, utc_now

log = logging.getLogger(__name__)


class _Event(BaseModel):
    run_id: str
    at: datetime = PydanticField(default_factory=utc_now)
    percent: float = 0.0


class RunStarted(_Event):
    kind: Literal["run_started"] = "run_started"
    spec_path: str
    resumed: bool = False


class RunProgressed(_Event):
    kind: Literal["run_progressed"] = "run_progressed"
    message: str


class RunFinished(_Event):
    kind: Literal["run_finished"] = "run_finished"
    status: RunStatus
    duration_ms: float
    error: str = ""


class PhaseStarted(_Event):
    kind: Literal["phase_started"] = "phase_started"
    phase: int
    name: str


class PhaseFinished(_Event):
    kind: Literal["phase_finished"] = "phase_finished"
    phase: int
    name: str
    status: str
    duration_ms: float
    message: str = ""


class PhaseProgressed(_Event):
    kind: Literal["phase_progressed"] = "phase_progressed"
    phase: int
    done: int
    total: int
    message: str = ""


class TaskStarted(_Event):
    kind: Literal["task_started"] = "task_started"
    phase: int
    task_id: str
    attempt: int = 1


class TaskProgressed(_Event):
    kind: Literal["task_progressed"] = "task_progressed"
    phase: int
    task_id: str
    message: str


class TaskFinished(_Event):
    kind: Literal["task_finished"] = "task_finished"
    phase: int
    task_id: str
    status: str
    duration_ms: float
    attempts: int = 1
    error: str = ""


RunEvent = Annotated[
    RunStarted
    | RunProgressed
    | RunFinished
    | PhaseStarted
    | PhaseProgressed
    | PhaseFinished
    | TaskStarted
    | TaskProgressed
    | TaskFinished,
    PydanticField(discriminator="kind"),
]

Subscriber = Callable[[RunEvent], Awaitable[None] | None]


class EventBus:
    """Delivers each event to every subscriber, in the order they subscribed."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber (a function or a coroutine function); returns its remover."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    async def publish(self, event: RunEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                result = subscriber(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("an event subscriber failed on %s; the run goes on", event.kind)
