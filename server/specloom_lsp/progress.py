"""One work-done progress token per long command, fed by the orchestrator's events.

The token is created with `window/workDoneProgress/create` when the client supports
it (else there is no progress, and every call here does nothing). It is cancellable:
the client's `window/workDoneProgress/cancel` cancels the run's `CancelToken`. The
percentage is an integer from 0 to 100 that never goes down; `end` is called once,
whatever happened.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.pipeline.cancel import CancelToken
    from specloom.pipeline.events import RunEvent

logger = logging.getLogger(__name__)

CREATE_TIMEOUT = 10.0


def cancel_with_request(server: SpecloomLanguageServer, cancel: CancelToken) -> None:
    """`$/cancelRequest` of the request being handled (an executeCommand) cancels
    `cancel` too."""
    protocol = server.protocol
    msg_id = protocol.msg_id
    future = protocol._request_futures.get(msg_id) if msg_id is not None else None
    if future is None:
        return

    def done(request: Future[Any] | asyncio.Future[Any]) -> None:
        if request.cancelled():
            cancel.cancel("the request was cancelled")

    future.add_done_callback(done)


class WorkDone:
    """The progress of one command."""

    def __init__(
        self, server: SpecloomLanguageServer, title: str, cancel: CancelToken, total: int = 11
    ) -> None:
        self.server = server
        self.title = title
        self.cancel = cancel
        self.total = total
        self.token: str | None = None
        self.percent = 0
        self.ended = False
        self.names: dict[int, str] = {}

    def supported(self) -> bool:
        window = self.server.client_capabilities.window
        return bool(window and window.work_done_progress)

    async def begin(self, message: str = "") -> None:
        if not self.supported():
            return
        token = f"specloom-{uuid.uuid4().hex}"
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), CREATE_TIMEOUT)
        except Exception as error:
            logger.warning("window/workDoneProgress/create failed: %s; no progress", error)
            return
        self.token = token
        future = progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(self._cancelled)
        progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self.title, cancellable=True, message=message or None, percentage=0
            ),
        )

    def _cancelled(self, future: Future[Any]) -> None:
        if future.cancelled() and not self.ended:
            self.cancel.cancel("cancelled in the editor")

    def report(self, message: str, percent: float | None = None) -> None:
        if self.token is None or self.ended:
            return
        if percent is not None:
            self.percent = max(self.percent, min(100, max(0, int(percent))))
        self.server.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(
                message=message, percentage=self.percent, cancellable=True
            ),
        )

    def end(self, message: str) -> None:
        if self.ended:
            return
        self.ended = True
        if self.token is None:
            return
        progress = self.server.work_done_progress
        try:
            progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        finally:
            progress.tokens.pop(self.token, None)

    # --- from the orchestrator's events ----------------------------------------------

    def message_of(self, event: RunEvent) -> str | None:
        """The progress message of an event ("phase N/11 name", "... · task"), or None
        for an event that has none."""
        from specloom.pipeline.events import (
            PhaseFinished,
            PhaseProgressed,
            PhaseStarted,
            TaskFinished,
            TaskProgressed,
            TaskStarted,
        )

        if isinstance(event, PhaseStarted):
            self.names[event.phase] = event.name
            return self.phase_message(event.phase)
        if isinstance(event, PhaseFinished):
            self.names[event.phase] = event.name
            return self.phase_message(event.phase)
        if isinstance(event, PhaseProgressed):
            return self.phase_message(event.phase)
        if isinstance(event, TaskStarted | TaskProgressed | TaskFinished):
            return f"{self.phase_message(event.phase)} · {event.task_id}"
        return None

    def phase_message(self, number: int) -> str:
        return f"phase {number}/{self.total} {self.names.get(number, '')}".rstrip()

    def on_event(self, event: RunEvent) -> None:
        message = self.message_of(event)
        if message is not None:
            self.report(message, event.percent)
