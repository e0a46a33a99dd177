"""Structured answers through tool use: the tool made from a pydantic model, the call
read back from an answer, and the feedback sent when the call does not fit.

The model is made to call the tool (`tool_choice`), so its answer is the tool's input:
JSON that should match the model's JSON schema. What does not validate is answered
with a `tool_result` marked `is_error` that says what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from anthropic.types import Message

_NOT_A_NAME = re.compile(r"[^a-zA-Z0-9_-]+")
MAX_NAME = 64


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool in an answer: its id (for the `tool_result`) and its input."""

    id: str
    name: str
    input: Any


def tool_name(model_type: type[BaseModel]) -> str:
    """The tool's name: `answer_` and the model's name, as the API allows names."""
    return _NOT_A_NAME.sub("_", f"answer_{model_type.__name__}")[:MAX_NAME]


def tool_for(model_type: type[BaseModel]) -> dict[str, Any]:
    """The tool whose input is an instance of `model_type`."""
    description = (model_type.__doc__ or "").strip() or f"A {model_type.__name__}."
    return {
        "name": tool_name(model_type),
        "description": f"Give the answer as a {model_type.__name__}: {description}",
        "input_schema": model_type.model_json_schema(),
    }


def read_tool_call(message: Message, name: str) -> ToolCall | None:
    """The answer's first call of the tool `name`, or None."""
    for block in message.content:
        if block.type == "tool_use" and block.name == name:
            return ToolCall(id=block.id, name=block.name, input=block.input)
    return None


def feedback(message: Message, call: ToolCall | None, problem: str) -> list[dict[str, Any]]:
    """The turns that follow a malformed answer: the answer itself (its text and tool
    calls) and the user's reply saying what was wrong."""
    content: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text" and block.text:
            content.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            content.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    turns: list[dict[str, Any]] = []
    if content:
        turns.append({"role": "assistant", "content": content})
    if call is not None:
        reply: list[dict[str, Any]] = [
            {
                "type": "tool_result",
                "tool_use_id": call.id,
                "is_error": True,
                "content": f"The input is not valid: {problem}. Call {call.name} again "
                "with input that matches its schema.",
            }
        ]
        # Every other tool call of the answer needs its result too.
        reply.extend(
            {"type": "tool_result", "tool_use_id": block["id"], "content": "Not used."}
            for block in content
            if block["type"] == "tool_use" and block["id"] != call.id
        )
        turns.append({"role": "user", "content": reply})
    else:
        turns.append({"role": "user", "content": f"{problem}. Answer by calling the tool."})
    return turns
