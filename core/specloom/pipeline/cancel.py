"""Cancellation: a token the orchestrator checks between tasks and long tasks check
inside; the editor's cancel and Ctrl-C both end up calling `cancel()`."""

from __future__ import annotations

import asyncio


class Cancelled(Exception):
    """Raised where a cancelled run stops."""


class CancelToken:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled by the user") -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason)

    async def wait(self) -> None:
        await self._event.wait()
