"""Streamed text through the real SDK against the Messages API stand-in: pieces,
caching, usage and dollars, the budget, cancellation, retries and errors."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from specloom.llm import (
    Budget,
    BudgetExceeded,
    LanguageModel,
    LLMRequestFailed,
    LLMSettings,
    LLMUnavailable,
    Usage,
    UsageEntry,
    user,
)
from specloom.pipeline.cancel import Cancelled, CancelToken

from tests.llm.messages_api import API_KEY, MessagesAPI, Tokens, error, sent_key, text

SYSTEM = ["You turn prose specs into Specloom's spec language.", "The language: ..."]


async def test_streamed_text_arrives_in_pieces(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(text(["Entity ", "Book ", "has a title."]))
    pieces: list[str] = []

    answer = await language_model.stream_text(SYSTEM, [user("books")], on_text=pieces.append)

    assert pieces == ["Entity ", "Book ", "has a title."]
    assert answer.text == "Entity Book has a title."
    assert answer.stop_reason == "end_turn"
    assert answer.model == "claude-sonnet-4-6"


async def test_a_coroutine_receives_the_pieces_too(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(text(["a", "b"]))
    pieces: list[str] = []

    async def on_text(piece: str) -> None:
        pieces.append(piece)

    await language_model.stream_text(SYSTEM, [user("x")], on_text=on_text)

    assert pieces == ["a", "b"]


async def test_the_request_caches_the_system_prompt_and_sends_the_key(
    api: MessagesAPI, language_model: LanguageModel, settings: LLMSettings
) -> None:
    api.script(text("ok"))

    await language_model.stream_text(SYSTEM, [user("books")])

    (request,) = api.requests
    body = request.body
    assert (body["model"], body["max_tokens"], body["stream"]) == (
        "claude-sonnet-4-6",
        settings.max_tokens,
        True,
    )
    assert [block["text"] for block in body["system"]] == SYSTEM
    assert "cache_control" not in body["system"][0]
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"] == [{"role": "user", "content": "books"}]
    # SDK 2.x sends the key as a bearer token; 0.x and 1.x sent it as x-api-key
    assert sent_key(request.headers) == API_KEY
    assert request.headers["anthropic-version"]


async def test_usage_and_dollars_add_up_over_calls(api: MessagesAPI, settings: LLMSettings) -> None:
    entries: list[UsageEntry] = []

    async def recorder(entry: UsageEntry) -> None:
        entries.append(entry)

    model = LanguageModel(settings, recorder=recorder)
    api.script(
        text("one", tokens=Tokens(input=1_000, output=200, cache_creation=3_000)),
        text("two", tokens=Tokens(input=500, output=100, cache_read=3_000)),
    )

    first = await model.stream_text(SYSTEM, [user("1")], purpose="formalize")
    second = await model.stream_text(SYSTEM, [user("2")], purpose="formalize")
    await model.aclose()

    assert first.usage == Usage(
        input_tokens=1_000, output_tokens=200, cache_creation_input_tokens=3_000
    )
    assert model.budget.spent == first.usage + second.usage
    assert model.budget.spent.total_tokens == 1_000 + 200 + 3_000 + 500 + 100 + 3_000
    # claude-sonnet-4-6: $3 input, $15 output, $3.75 cache write, $0.30 cache read
    expected = (1_500 * 3 + 300 * 15 + 3_000 * 3.75 + 3_000 * 0.30) / 1_000_000
    assert model.budget.dollars == pytest.approx(expected)
    assert [(e.purpose, e.model, e.usage) for e in entries] == [
        ("formalize", "claude-sonnet-4-6", first.usage),
        ("formalize", "claude-sonnet-4-6", second.usage),
    ]
    assert sum(e.dollars for e in entries) == pytest.approx(expected)


async def test_the_budget_stops_the_second_call(api: MessagesAPI, settings: LLMSettings) -> None:
    model = LanguageModel(settings, budget=Budget(max_tokens=1_000, settings=settings))
    api.script(text("one", tokens=Tokens(input=900, output=150)), text("never sent"))

    await model.stream_text(SYSTEM, [user("1")])
    with pytest.raises(BudgetExceeded) as raised:
        await model.stream_text(SYSTEM, [user("2")])
    await model.aclose()

    assert "spent 1,050 tokens" in str(raised.value)
    assert "limit is 1,000 tokens" in str(raised.value)
    assert len(api.requests) == 1
    assert api.pending == 1


async def test_cancelling_mid_stream_closes_the_connection(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(text([f"piece {n} " for n in range(100)], delay_s=0.05))
    cancel = CancelToken()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.cancel("stopped from the editor")

    started = time.monotonic()
    with pytest.raises(Cancelled, match="stopped from the editor"):
        await language_model.stream_text(SYSTEM, [user("x")], cancel=cancel, on_text=on_text)
    cancelled_after = time.monotonic() - started

    (request,) = api.requests
    assert cancelled_after < 2.0  # the whole stream would take 5 s
    assert request.disconnected.wait(2.0)
    assert request.disconnected_at is not None
    assert request.disconnected_at - started < 2.0
    assert not request.completed
    assert len(pieces) == 3
    # what the call had used before it was cut (message_start's input) is charged
    assert language_model.budget.spent.input_tokens == 100


async def test_a_token_cancelled_before_the_call_makes_no_request(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    cancel = CancelToken()
    cancel.cancel()

    with pytest.raises(Cancelled):
        await language_model.stream_text(SYSTEM, [user("x")], cancel=cancel)

    assert api.requests == []


async def test_a_cancel_that_never_comes_leaves_the_answer_alone(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(text(["a", "b"], delay_s=0.01))

    answer = await language_model.stream_text(SYSTEM, [user("x")], cancel=CancelToken())

    assert answer.text == "ab"
    assert api.requests[0].completed


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_the_sdk_retries_an_overloaded_or_failing_api(
    api: MessagesAPI, language_model: LanguageModel, status: int
) -> None:
    api.script(error(status), text("after the retry"))

    answer = await language_model.stream_text(SYSTEM, [user("x")])

    assert answer.text == "after the retry"
    assert len(api.requests) == 2


async def test_an_api_that_keeps_failing_raises_a_plain_error(
    api: MessagesAPI, settings: LLMSettings
) -> None:
    model = LanguageModel(settings.model_copy(update={"max_retries": 1}))
    api.script(error(529, "Overloaded"), error(529, "Overloaded"))

    with pytest.raises(LLMRequestFailed) as raised:
        await model.stream_text(SYSTEM, [user("x")])
    await model.aclose()

    assert str(raised.value) == "the Anthropic API answered 529: overloaded_error: Overloaded"
    assert len(api.requests) == 2
    assert model.budget.calls == 0


async def test_a_refused_key_makes_the_model_unavailable(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(error(401, "invalid x-api-key"))

    with pytest.raises(LLMUnavailable, match=r"refused the key \(401\)"):
        await language_model.stream_text(SYSTEM, [user("x")])


async def test_an_unreachable_api_raises_a_plain_error(settings: LLMSettings) -> None:
    model = LanguageModel(
        settings.model_copy(update={"base_url": "http://127.0.0.1:9", "max_retries": 0})
    )

    with pytest.raises(LLMRequestFailed, match=r"could not be reached at http://127\.0\.0\.1:9"):
        await model.stream_text(SYSTEM, [user("x")])
    await model.aclose()


async def test_the_key_never_appears_in_logs(
    api: MessagesAPI, language_model: LanguageModel, caplog: pytest.LogCaptureFixture
) -> None:
    api.script(error(529), text("fine"), error(400, "bad request"))

    with caplog.at_level(logging.DEBUG):
        await language_model.stream_text(SYSTEM, [user("x")])
        with pytest.raises(LLMRequestFailed) as raised:
            await language_model.stream_text(SYSTEM, [user("y")])

    assert caplog.records  # the SDK and httpx did log, at debug level
    assert "Retrying request" in caplog.text
    assert API_KEY not in caplog.text
    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(api.requests)


async def test_many_calls_can_share_one_model_concurrently(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(*(text(f"answer {n}", tokens=Tokens(input=10, output=1)) for n in range(5)))

    answers = await asyncio.gather(
        *(language_model.stream_text(SYSTEM, [user(str(n))]) for n in range(5))
    )

    assert sorted(answer.text for answer in answers) == [f"answer {n}" for n in range(5)]
    assert language_model.budget.spent.total_tokens == 55
