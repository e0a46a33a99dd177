"""Recorded exchanges: cassettes replayed by the stand-in, the recorder that makes
them, and the stand-in's non-streamed answers as the SDK reads them."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel
from specloom.llm import LanguageModel, LLMSettings, user

from tests.llm.cassettes import CASSETTES, load_cassette
from tests.llm.messages_api import API_KEY, MessagesAPI, Tokens, running, text

SYSTEM = ["You turn prose specs into Specloom's spec language."]


class Book(BaseModel):
    title: str
    pages: int


async def test_a_recorded_text_stream_replays_through_the_sdk(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    cassette = load_cassette("stream_text")
    api.script(cassette.reply())
    pieces: list[str] = []

    answer = await language_model.stream_text(SYSTEM, [user("a shop")], on_text=pieces.append)

    cassette.check(api.requests[0].body)
    assert pieces == ["Entity Book:\n", "- title: text\n", "- isbn: text, unique\n"]
    assert answer.text == "".join(pieces)
    assert answer.stop_reason == "end_turn"
    assert answer.usage.cache_creation_input_tokens == 1_536


async def test_a_recorded_tool_call_replays_as_a_structured_answer(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    cassette = load_cassette("structured_book")
    api.script(cassette.reply())

    book = await language_model.structured(SYSTEM, [user("one book")], Book)

    cassette.check(api.requests[0].body)
    assert book == Book(title="Dune", pages=412)
    assert language_model.budget.spent.cache_read_input_tokens == 1_536


async def test_the_recorder_saves_an_exchange_that_replays_the_same(tmp_path: Path) -> None:
    path = tmp_path / "recorded.json"
    with (
        running() as upstream,
        running(upstream=upstream.base_url, cassette=path) as recorder,
    ):
        upstream.script(text(["Entity ", "Cart"], tokens=Tokens(input=42, output=3)))
        settings = LLMSettings(api_key=API_KEY, base_url=recorder.base_url)
        model = LanguageModel(settings)
        recorded = await model.stream_text(SYSTEM, [user("a cart")])
        await model.aclose()
        (forwarded,) = upstream.requests

    assert forwarded.body == recorder.requests[0].body
    assert API_KEY not in path.read_text()
    cassette = load_cassette(path)
    assert cassette.request["model"] == settings.model
    with running() as replayer:
        replayer.script(cassette.reply())
        model = LanguageModel(LLMSettings(api_key=API_KEY, base_url=replayer.base_url))
        replayed = await model.stream_text(SYSTEM, [user("a cart")])
        await model.aclose()
        cassette.check(replayer.requests[0].body)
    assert replayed.text == recorded.text == "Entity Cart"
    assert replayed.usage == recorded.usage


async def test_a_non_streamed_request_gets_the_whole_message(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(text(["Hello, ", "world"], tokens=Tokens(input=12, output=4)))

    message = await language_model.client().messages.create(
        model="claude-sonnet-4-6", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    )

    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello, world"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 4)
    assert message.stop_reason == "end_turn"
    assert api.requests[0].body.get("stream") in (None, False)


def test_every_cassette_is_well_formed() -> None:
    names = sorted(path.stem for path in CASSETTES.glob("*.json"))
    assert names
    for name in names:
        cassette = load_cassette(name)
        kinds = [event["event"] for event in cassette.events]
        assert kinds[0] == "message_start"
        assert kinds[-2:] == ["message_delta", "message_stop"]
        assert API_KEY not in json.dumps(cassette.request)
