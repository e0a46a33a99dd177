"""Whether generated code may run in a workspace (phases 7 to 10 run the app's tests and
start the app).

The `trust` setting decides when the user set it: true runs, false never runs and never
asks. When it is not set, the server asks the client once per workspace with
`window/showMessageRequest` and remembers the answer for the session; a question
dismissed without an answer counts as "not now" for that run only. A client without the
`window.showMessage` capability is not asked: nothing runs. Two runs that need the
answer at once share one question.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

logger = logging.getLogger(__name__)

QUESTION = (
    "Specloom runs the generated app's tests and starts it on this machine. Trust this workspace?"
)
TRUST, NOT_NOW = "Trust this workspace", "Not now"
ANSWER_SECONDS = 600.0  # how long a run waits for the user's answer


@dataclass(frozen=True, slots=True)
class TrustDecision:
    """Whether a run may run generated code, and what decided it."""

    trusted: bool
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"trusted": self.trusted, "reason": self.reason}


class WorkspaceTrust:
    """The trust of each workspace for this session: the setting, else the answer."""

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.answers: dict[str, bool] = {}
        """workspace folder -> the user's answer in this session."""
        self.asking: dict[str, asyncio.Future[TrustDecision]] = {}

    def can_ask(self) -> bool:
        try:
            window = self.server.client_capabilities.window
        except (AttributeError, RuntimeError):  # not initialized
            return False
        return window is not None and window.show_message is not None

    async def decide(self, workspace: Path) -> TrustDecision:
        """The trust of `workspace` for a run that would run generated code."""
        setting = self.server.settings.trust
        if setting is not None:
            return TrustDecision(setting, f"the trust setting is {str(setting).lower()}")
        key = str(workspace)
        if key in self.answers:
            return _answered(self.answers[key])
        if not self.can_ask():
            return TrustDecision(
                False, "the trust setting is not set and the client cannot be asked"
            )
        pending = self.asking.get(key)
        if pending is None:
            pending = self.asking[key] = asyncio.ensure_future(self._ask(key))
            pending.add_done_callback(lambda _done: self.asking.pop(key, None))
        return await asyncio.shield(pending)

    async def _ask(self, key: str) -> TrustDecision:
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=QUESTION,
            actions=[types.MessageActionItem(title=TRUST), types.MessageActionItem(title=NOT_NOW)],
        )
        try:
            answer = await asyncio.wait_for(
                self.server.window_show_message_request_async(params), ANSWER_SECONDS
            )
        except Exception as error:  # no answer (a timeout, a client error): not trusted
            logger.warning("the trust question got no answer: %s", error)
            return TrustDecision(False, "the trust question got no answer")
        if answer is None or answer.title not in (TRUST, NOT_NOW):
            return TrustDecision(False, "the trust question was dismissed")
        trusted = answer.title == TRUST
        self.answers[key] = trusted
        logger.info("workspace %s: %s", key, "trusted" if trusted else "not trusted (not now)")
        return _answered(trusted)


def _answered(trusted: bool) -> TrustDecision:
    answer = TRUST if trusted else NOT_NOW
    return TrustDecision(trusted, f"answered '{answer}' for this workspace")
