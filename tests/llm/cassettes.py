"""Cassettes: recorded exchanges with the Messages API, replayed by the stand-in.

A cassette is a JSON file in `cassettes/`:

    {
      "request": {the request's summary: model, max_tokens, stream, system blocks
                  (text length and cache_control), tools (name and schema), tool_choice,
                  message roles},
      "response": {"status": 200, "events": [{"event": "message_start", "data": {...}},
                   ...]}
    }

The summary holds no header, so no API key. `replay(name)` gives the stand-in's reply
(the recorded events, sent as they were); `Cassette.check(body)` asserts a new request
still matches the recorded one.

To record one against the real API (which needs a key and the network):

    with running(upstream="https://api.anthropic.com", cassette=CASSETTES / "x.json") as api:
        settings = LLMSettings(api_key=..., base_url=api.base_url)
        ...  # make the call once; the stand-in forwards it and saves the exchange

The cassettes kept here were written in that format by hand (the real API cannot be
reached from where they were made); the recorder itself is tested against a second
stand-in as its upstream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.llm.messages_api import Event, Reply

CASSETTES = Path(__file__).resolve().parent / "cassettes"


def summarize(body: dict[str, Any]) -> dict[str, Any]:
    """What a request asked for, without its secrets or its long texts."""
    system = body.get("system") or []
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    return {
        "model": body.get("model"),
        "max_tokens": body.get("max_tokens"),
        "stream": bool(body.get("stream")),
        "system": [
            {"chars": len(block.get("text", "")), "cache_control": block.get("cache_control")}
            for block in system
        ],
        "tools": [
            {"name": tool.get("name"), "input_schema": tool.get("input_schema")}
            for tool in body.get("tools") or []
        ],
        "tool_choice": body.get("tool_choice"),
        "messages": [message.get("role") for message in body.get("messages") or []],
    }


@dataclass(frozen=True)
class Cassette:
    request: dict[str, Any]
    status: int
    events: list[Event]

    def reply(self) -> Reply:
        return Reply(events=self.events, status=self.status)

    def check(self, body: dict[str, Any]) -> None:
        """Assert that `body` asks for what the recorded request asked for (the texts
        may differ; their number, roles, caching, tools and model may not)."""
        now, then = summarize(body), dict(self.request)
        for summary in (now, then):
            summary["system"] = [block["cache_control"] for block in summary["system"]]
        assert now == then


def save_cassette(path: Path, request: dict[str, Any], events: list[Event]) -> None:
    data = {"request": summarize(request), "response": {"status": 200, "events": events}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load_cassette(name_or_path: str | Path) -> Cassette:
    path = Path(name_or_path)
    if not path.is_absolute():
        path = CASSETTES / f"{name_or_path}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    response = data["response"]
    return Cassette(data["request"], response["status"], response["events"])
