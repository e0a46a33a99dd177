"""Structured answers: a pydantic model through a forced tool call, validated, with
malformed answers sent back once or twice before `MalformedAnswer`."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field
from specloom.llm import LanguageModel, MalformedAnswer, user
from specloom.llm.structured import tool_name

from tests.llm.messages_api import MessagesAPI, Tokens, text, tool_use


class Entity(BaseModel):
    """An entity of the spec language, with its fields."""

    name: str
    fields: list[str] = Field(min_length=1)


TOOL = tool_name(Entity)
SYSTEM = "You extract entities."


async def test_a_valid_answer_is_a_model_instance(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(tool_use(TOOL, {"name": "Book", "fields": ["title", "isbn"]}))

    entity = await language_model.structured(SYSTEM, [user("books")], Entity)

    assert entity == Entity(name="Book", fields=["title", "isbn"])


async def test_the_tool_schema_is_the_models_and_the_tool_is_forced(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(tool_use(TOOL, {"name": "Book", "fields": ["title"]}))

    await language_model.structured(SYSTEM, [user("books")], Entity)

    body = api.requests[0].body
    (tool,) = body["tools"]
    assert tool["name"] == TOOL == "answer_Entity"
    assert tool["input_schema"] == Entity.model_json_schema()
    assert "An entity of the spec language" in tool["description"]
    assert body["tool_choice"] == {"type": "tool", "name": TOOL}
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}


async def test_a_malformed_answer_is_sent_back_and_the_retry_returned(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(
        tool_use(TOOL, {"name": "Book", "fields": []}, tokens=Tokens(input=50, output=10)),
        tool_use(TOOL, {"name": "Book", "fields": ["title"]}, tokens=Tokens(input=80, output=10)),
    )

    entity = await language_model.structured(SYSTEM, [user("books")], Entity)

    assert entity == Entity(name="Book", fields=["title"])
    first, second = api.requests
    assert first.body["messages"] == [{"role": "user", "content": "books"}]
    asked, answered, feedback = second.body["messages"]
    assert asked == {"role": "user", "content": "books"}
    assert answered["role"] == "assistant"
    assert answered["content"][0]["input"] == {"name": "Book", "fields": []}
    (result,) = feedback["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == answered["content"][0]["id"]
    assert result["is_error"] is True
    assert "fields: List should have at least 1 item" in result["content"]
    assert language_model.budget.spent.total_tokens == 150  # both calls are charged


async def test_an_answer_without_the_tool_call_is_asked_again(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(text("Book has a title."), tool_use(TOOL, {"name": "Book", "fields": ["title"]}))

    entity = await language_model.structured(SYSTEM, [user("books")], Entity)

    assert entity.name == "Book"
    feedback = api.requests[1].body["messages"][-1]
    assert feedback["role"] == "user"
    assert "did not call the tool answer_Entity" in feedback["content"]


async def test_input_that_is_not_json_is_malformed_too(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(
        tool_use(TOOL, None, raw_json='{"name": 7, "fields": ["a"]}'),
        tool_use(TOOL, {"name": "Book", "fields": ["title"]}, preamble="Fixed."),
    )

    entity = await language_model.structured(SYSTEM, [user("books")], Entity)

    assert entity.name == "Book"
    assert "name: Input should be a valid string" in str(api.requests[1].body["messages"])


async def test_an_answer_that_stays_malformed_raises_malformed_answer(
    api: MessagesAPI, language_model: LanguageModel
) -> None:
    api.script(*(tool_use(TOOL, {"name": "Book"}) for _ in range(3)))

    with pytest.raises(MalformedAnswer) as raised:
        await language_model.structured(SYSTEM, [user("books")], Entity, attempts=3)

    assert str(raised.value) == (
        "the language model's answer did not fit Entity after 3 attempts: fields: Field required"
    )
    assert len(api.requests) == 3
    assert api.pending == 0
