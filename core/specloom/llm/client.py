"""`LanguageModel`: Claude through the Messages API (the `anthropic` SDK), streamed,
cancellable, budgeted and recorded.

- `stream_text` streams an answer, handing each piece of text to `on_text`.
- `structured` asks for an instance of a pydantic model: the model is made to call one
  tool whose input schema is the model's JSON schema; the tool's input is validated,
  and a malformed answer is sent back with the validation errors (up to `attempts`
  calls) before `MalformedAnswer` is raised.

Every call is streamed, so a `CancelToken` can stop it at any point: the request task is
cancelled, which closes the HTTP connection, and `Cancelled` is raised. The system
prompt is sent as text blocks, the last one marked `cache_control: ephemeral`, so the
stable prefix (tools and system) is cached between calls; put what changes from call to
call in the messages. The budget is checked before every call and charged after it (a
cancelled call is charged with what it had used); each call's usage goes to the
recorder. The SDK retries 408/409/429/5xx answers and lost connections itself
(`max_retries`); what still fails raises `LLMRequestFailed`.

`anthropic` is imported when the first call is made, so importing Specloom stays fast.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from specloom.llm.budget import Budget
from specloom.llm.errors import NO_KEY, LLMRequestFailed, LLMUnavailable, MalformedAnswer
from specloom.llm.settings import LLMSettings
from specloom.llm.structured import ToolCall, feedback, read_tool_call, tool_for
from specloom.llm.usage import Usage, UsageEntry, UsageRecorder
from specloom.pipeline.cancel import Cancelled, CancelToken

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic
    from anthropic.types import Message

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")
Messages = Sequence[Mapping[str, Any]]
OnText = Callable[[str], object]
"""Receives each piece of streamed text; may be a coroutine function."""

DEFAULT_ATTEMPTS = 3


@dataclass(frozen=True)
class Answer:
    """A streamed answer: its text, the tokens it used and why it stopped
    (`end_turn`, `max_tokens`, `stop_sequence`, `tool_use`...)."""

    text: str
    usage: Usage
    stop_reason: str | None
    model: str


def user(text: str) -> dict[str, Any]:
    """A user message of plain text."""
    return {"role": "user", "content": text}


class LanguageModel:
    """Claude, configured by `settings`; every call is charged to `budget` (by default
    a fresh one from the settings: one `LanguageModel` per run) and handed to
    `recorder`. Raises `LLMUnavailable` when the settings have no API key."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        budget: Budget | None = None,
        recorder: UsageRecorder | None = None,
    ) -> None:
        if not settings.has_key:
            raise LLMUnavailable(NO_KEY)
        self.settings = settings
        self.budget = budget if budget is not None else Budget.of(settings)
        self.recorder = recorder
        self._client: AsyncAnthropic | None = None

    def __repr__(self) -> str:
        return f"LanguageModel(model={self.settings.model!r}, base_url={self.settings.base_url!r})"

    async def aclose(self) -> None:
        """Close the HTTP connections (the model can be used again afterwards)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # --- calls ----------------------------------------------------------------------

    async def stream_text(
        self,
        system: str | Sequence[str],
        messages: Messages,
        *,
        cancel: CancelToken | None = None,
        on_text: OnText | None = None,
        purpose: str = "text",
    ) -> Answer:
        """Stream an answer to `messages`, handing each piece of text to `on_text`."""
        message = await self._call(
            system, messages, cancel=cancel, on_text=on_text, purpose=purpose
        )
        text = "".join(block.text for block in message.content if block.type == "text")
        return Answer(text, Usage.of(message.usage), message.stop_reason, message.model)

    async def structured(
        self,
        system: str | Sequence[str],
        messages: Messages,
        model_type: type[ModelT],
        *,
        cancel: CancelToken | None = None,
        purpose: str = "structured",
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> ModelT:
        """An instance of `model_type`, answered through a forced call of a tool whose
        input schema is the model's JSON schema. A malformed answer (no call of the
        tool, or input that does not validate) is answered with what was wrong and
        asked again, `attempts` calls in all; then `MalformedAnswer` is raised."""
        tool = tool_for(model_type)
        conversation = [dict(message) for message in messages]
        problem = ""
        for attempt in range(1, attempts + 1):
            message = await self._call(
                system,
                conversation,
                cancel=cancel,
                purpose=purpose,
                tool=tool,
            )
            call = read_tool_call(message, tool["name"])
            try:
                if call is None:
                    raise ValueError(f"the answer did not call the tool {tool['name']}")
                return model_type.model_validate(call.input)
            except (ValidationError, ValueError) as error:
                problem = describe_problem(error)
                log.info(
                    "malformed %s answer (attempt %d of %d): %s",
                    purpose,
                    attempt,
                    attempts,
                    problem,
                )
                conversation.extend(feedback(message, call, problem))
        raise MalformedAnswer(
            f"the language model's answer did not fit {model_type.__name__} after "
            f"{attempts} attempts: {problem}"
        )

    # --- plumbing -------------------------------------------------------------------

    def client(self) -> AsyncAnthropic:
        """The SDK client, made on first use."""
        if self._client is None:
            from anthropic import AsyncAnthropic

            assert self.settings.api_key is not None  # checked in __init__
            self._client = AsyncAnthropic(
                api_key=self.settings.api_key.get_secret_value(),
                base_url=self.settings.base_url,
                timeout=self.settings.timeout_s,
                max_retries=self.settings.max_retries,
            )
        return self._client

    async def _call(
        self,
        system: str | Sequence[str],
        messages: Messages,
        *,
        cancel: CancelToken | None,
        purpose: str,
        on_text: OnText | None = None,
        tool: Mapping[str, Any] | None = None,
    ) -> Message:
        """One streamed request; charged to the budget and recorded, even when cancelled."""
        import anthropic

        self.budget.check()
        if cancel is not None:
            cancel.raise_if_cancelled()
        request: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": self.settings.max_tokens,
            "system": system_blocks(system),
            "messages": list(messages),
        }
        if tool is not None:
            request["tools"] = [tool]
            request["tool_choice"] = {"type": "tool", "name": tool["name"]}
        seen = _Seen()
        try:
            return await until_cancelled(self._stream(request, seen, on_text), cancel)
        except anthropic.AuthenticationError as error:
            raise LLMUnavailable(
                f"the Anthropic API refused the key ({error.status_code}): check ANTHROPIC_API_KEY"
            ) from None
        except anthropic.APIStatusError as error:
            raise LLMRequestFailed(
                f"the Anthropic API answered {error.status_code}: {_error_text(error)}"
            ) from None
        except anthropic.APIConnectionError as error:
            raise LLMRequestFailed(
                f"the Anthropic API could not be reached at {self.client().base_url}: "
                f"{type(error).__name__}"
            ) from None
        finally:
            if seen.usage is not None:
                await self._charge(seen.model or self.settings.model, purpose, seen.usage)

    async def _stream(
        self, request: dict[str, Any], seen: _Seen, on_text: OnText | None
    ) -> Message:
        async with self.client().messages.stream(**request) as stream:
            async for event in stream:
                if event.type in ("message_start", "message_delta"):
                    snapshot = stream.current_message_snapshot
                    seen.usage, seen.model = Usage.of(snapshot.usage), snapshot.model
                elif (
                    on_text is not None
                    and event.type == "content_block_delta"
                    and event.delta.type == "text_delta"
                ):
                    result = on_text(event.delta.text)
                    if inspect.isawaitable(result):
                        await result
            return await stream.get_final_message()

    async def _charge(self, model: str, purpose: str, usage: Usage) -> None:
        dollars = self.budget.add(model, usage)
        log.debug(
            "%s call to %s: %d input, %d output, %d cache write, %d cache read tokens ($%.4f)",
            purpose,
            model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
            dollars,
        )
        if self.recorder is None:
            return
        entry = UsageEntry(model=model, purpose=purpose, usage=usage, dollars=dollars)
        try:
            await self.recorder(entry)
        except Exception:
            # Usage is still in the budget; losing its record must not lose the answer.
            log.exception("could not record the language model's usage")


@dataclass
class _Seen:
    """What a stream has shown so far: its model and usage (None before message_start)."""

    usage: Usage | None = None
    model: str = ""


def system_blocks(system: str | Sequence[str]) -> list[dict[str, Any]]:
    """The system prompt as text blocks, the last marked as the end of the cached prefix."""
    texts = [system] if isinstance(system, str) else [text for text in system if text]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text} for text in texts]
    if blocks:
        blocks[-1]["cache_control"] = {"type": "ephemeral"}
    return blocks


async def until_cancelled(work: Awaitable[ResultT], cancel: CancelToken | None) -> ResultT:
    """The result of `work`, or `Cancelled` as soon as `cancel` fires; `work` is then
    cancelled and waited for (which closes a stream in flight)."""
    if cancel is None:
        return await work
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(cancel.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
        waiter.cancel()
        await asyncio.gather(task, waiter, return_exceptions=True)
    if task not in done:
        raise Cancelled(cancel.reason)
    return task.result()


def describe_problem(error: Exception) -> str:
    """What was wrong with an answer, one line per validation error."""
    if not isinstance(error, ValidationError):
        return str(error)
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "(the whole input)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def _error_text(error: Any) -> str:
    """`type: message` of an API error's body (`overloaded_error: Overloaded`)."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = body["error"]
        return f"{detail.get('type', 'error')}: {detail.get('message', '')}".rstrip(": ")
    return str(error.message)


__all__ = ["Answer", "LanguageModel", "ToolCall", "system_blocks", "until_cancelled", "user"]
