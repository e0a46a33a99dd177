"""A local stand-in of Anthropic's Messages API, for testing through the real SDK.

`MessagesAPI` is a real HTTP server (uvicorn, in a thread of its own, on 127.0.0.1 and a
free port) answering `POST /v1/messages` from a script of replies:

- a streamed request (`"stream": true`) gets server-sent events exactly as the API
  sends them: `message_start` (with usage), `content_block_start`, `ping`,
  `content_block_delta` (`text_delta` or `input_json_delta`), `content_block_stop`,
  `message_delta` (stop reason and output usage), `message_stop`;
- any other request gets the accumulated `Message` as JSON;
- an error reply (429, 500, 529...) gets the API's error body and a short
  `retry-after-ms`, so the SDK's retries are quick;
- a reply with `delay_s` streams slowly, one event per delay, so a client can go away
  mid-stream: each `Received` request records whether and when the client
  disconnected.

Every request is kept (`requests`): method, path, headers and JSON body, so tests can
assert what the SDK sent. Nothing here logs a header. With `upstream` (and a cassette
path) the server forwards instead, relays the upstream's events and saves the exchange
as a cassette (see `cassettes.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

Event = dict[str, Any]
"""One server-sent event: `{"event": name, "data": {...}}`."""
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

_ids = itertools.count(1)

API_KEY = "sk-ant-standin-6b1f0c9e2d7a4c58a3e1"
"""The key the tests use: no real service knows it; tests check it never shows."""


def _new_id(prefix: str) -> str:
    return f"{prefix}_standin{next(_ids):06d}"


@dataclass(frozen=True)
class Tokens:
    """The usage a reply reports."""

    input: int = 100
    output: int = 20
    cache_creation: int = 0
    cache_read: int = 0


@dataclass
class Reply:
    """One scripted answer: events (a success) or a status and error body."""

    events: list[Event] = field(default_factory=list)
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def events_for(self, request: dict[str, Any]) -> list[Event]:
        """The events, with the requested model where the reply names none."""
        events = json.loads(json.dumps(self.events))
        for event in events:
            if event["event"] == "message_start" and not event["data"]["message"]["model"]:
                event["data"]["message"]["model"] = request.get("model", "")
        return list(events)


def _message_start(tokens: Tokens) -> Event:
    usage = {
        "input_tokens": tokens.input,
        "output_tokens": 1,
        "cache_creation_input_tokens": tokens.cache_creation,
        "cache_read_input_tokens": tokens.cache_read,
    }
    message = {
        "id": _new_id("msg"),
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return {"event": "message_start", "data": {"type": "message_start", "message": message}}


def _block(index: int, block: dict[str, Any], deltas: list[dict[str, Any]]) -> list[Event]:
    start = {"type": "content_block_start", "index": index, "content_block": block}
    events: list[Event] = [{"event": "content_block_start", "data": start}]
    for delta in deltas:
        data = {"type": "content_block_delta", "index": index, "delta": delta}
        events.append({"event": "content_block_delta", "data": data})
    stop = {"type": "content_block_stop", "index": index}
    events.append({"event": "content_block_stop", "data": stop})
    return events


def _ending(stop_reason: str, tokens: Tokens) -> list[Event]:
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": tokens.output},
    }
    return [
        {"event": "message_delta", "data": delta},
        {"event": "message_stop", "data": {"type": "message_stop"}},
    ]


def text(
    pieces: str | list[str],
    *,
    tokens: Tokens = Tokens(),
    delay_s: float = 0.0,
    stop_reason: str = "end_turn",
) -> Reply:
    """A text answer streamed in `pieces` (a string is one piece)."""
    chunks = [pieces] if isinstance(pieces, str) else pieces
    deltas = [{"type": "text_delta", "text": chunk} for chunk in chunks]
    events = [
        _message_start(tokens),
        *_block(0, {"type": "text", "text": ""}, deltas[:1]),
    ]
    events.insert(2, {"event": "ping", "data": {"type": "ping"}})
    block_stop = events.pop()
    for delta in deltas[1:]:
        data = {"type": "content_block_delta", "index": 0, "delta": delta}
        events.append({"event": "content_block_delta", "data": data})
    events.append(block_stop)
    return Reply(events=[*events, *_ending(stop_reason, tokens)], delay_s=delay_s)


def tool_use(
    name: str,
    tool_input: Any,
    *,
    preamble: str = "",
    tokens: Tokens = Tokens(),
    raw_json: str | None = None,
) -> Reply:
    """An answer calling the tool `name` with `tool_input` (or `raw_json` verbatim),
    its JSON streamed in two `input_json_delta` pieces, after an optional text block."""
    events = [_message_start(tokens)]
    index = 0
    if preamble:
        events += _block(
            0, {"type": "text", "text": ""}, [{"type": "text_delta", "text": preamble}]
        )
        index = 1
    encoded = raw_json if raw_json is not None else json.dumps(tool_input)
    middle = len(encoded) // 2
    deltas = [
        {"type": "input_json_delta", "partial_json": part}
        for part in (encoded[:middle], encoded[middle:])
    ]
    block = {"type": "tool_use", "id": _new_id("toolu"), "name": name, "input": {}}
    events += _block(index, block, deltas)
    return Reply(events=[*events, *_ending("tool_use", tokens)])


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error(status: int, message: str = "") -> Reply:
    """The API's error answer for `status`, asking for a retry after 10 ms."""
    kind = ERROR_TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message or kind}}
    return Reply(status=status, body=body, headers={"retry-after-ms": "10"})


def accumulate(events: list[Event]) -> dict[str, Any]:
    """The `Message` JSON a non-streamed request gets: the events folded together."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for event in events:
        data = event["data"]
        kind = data["type"]
        if kind == "message_start":
            message = json.loads(json.dumps(data["message"]))
        elif kind == "content_block_start":
            message["content"].append(dict(data["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "input_json_delta":
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif kind == "content_block_stop" and data["index"] in partial:
            message["content"][data["index"]]["input"] = json.loads(partial[data["index"]])
        elif kind == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


def sse(event: Event) -> bytes:
    return f"event: {event['event']}\ndata: {json.dumps(event['data'])}\n\n".encode()


def parse_sse(raw: bytes) -> list[Event]:
    """The events of a server-sent event stream."""
    events: list[Event] = []
    for chunk in raw.decode().replace("\r\n", "\n").split("\n\n"):
        name, data = "", ""
        for line in chunk.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data += line.removeprefix("data:").strip()
        if name and data:
            events.append({"event": name, "data": json.loads(data)})
    return events


FORWARDED_HEADERS = frozenset(
    {"x-api-key", "authorization", "anthropic-version", "anthropic-beta", "content-type"}
)


def sent_key(headers: dict[str, str]) -> str | None:
    """The API key a request carried: `x-api-key`, or a bearer `authorization`."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


@dataclass
class Received:
    """One request the stand-in got, and what became of its answer."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    completed: bool = False
    disconnected: threading.Event = field(default_factory=threading.Event)
    disconnected_at: float | None = None

    def __repr__(self) -> str:  # never show the headers (the API key is among them)
        return f"Received({self.method} {self.path}, model={self.body.get('model')!r})"


class MessagesAPI:
    """The stand-in server; `start()` it (or use it as a context manager), `script()`
    its replies, read `requests` afterwards."""

    def __init__(self, *, upstream: str | None = None, cassette: Path | None = None) -> None:
        self.upstream = upstream
        self.cassette = cassette
        self.requests: list[Received] = []
        self._replies: deque[Reply | Callable[[dict[str, Any]], Reply]] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        """Queue replies, answered in order, one per request. A reply may be a function
        of the request's JSON body (an answer that quotes what was sent)."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._lock:
            return len(self._replies)

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> MessagesAPI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Messages API stand-in did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def __enter__(self) -> MessagesAPI:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- ASGI -----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request = Received(scope["method"], scope["path"], headers, json.loads(raw or b"{}"))
        with self._lock:
            self.requests.append(request)
        if (scope["method"], scope["path"]) != ("POST", "/v1/messages"):
            await _json(send, 404, error(404, f"no route {scope['path']}").body or {})
            return
        if self.upstream is not None:
            await self._forward(request, raw, receive, send)
            return
        with self._lock:
            reply = self._replies.popleft() if self._replies else None
        if callable(reply):
            reply = reply(request.body)
        if reply is None:
            reply = error(400, "the stand-in has no scripted reply left")
            reply.headers["x-should-retry"] = "false"
        if reply.status != 200:
            await _json(send, reply.status, reply.body or {}, reply.headers)
            return
        events = reply.events_for(request.body)
        if not request.body.get("stream"):
            await _json(send, 200, accumulate(events))
            request.completed = True
            return
        await self._stream(request, events, reply.delay_s, receive, send)

    async def _stream(
        self,
        request: Received,
        events: list[Event],
        delay_s: float,
        receive: Receive,
        send: Send,
    ) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"request-id", b"req_standin")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        watcher = asyncio.create_task(_watch_disconnect(request, receive))
        try:
            for event in events:
                if request.disconnected.is_set():
                    return
                await send({"type": "http.response.body", "body": sse(event), "more_body": True})
                if delay_s:
                    await asyncio.sleep(delay_s)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            request.completed = True
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _forward(self, request: Received, raw: bytes, receive: Receive, send: Send) -> None:
        """Relay the request to the upstream API and save the exchange as a cassette."""
        import httpx

        from tests.llm.cassettes import save_cassette

        forwarded = {
            name: value for name, value in request.headers.items() if name in FORWARDED_HEADERS
        }
        assert self.upstream is not None
        assert self.cassette is not None
        async with (
            httpx.AsyncClient(base_url=self.upstream, timeout=60) as client,
            client.stream("POST", "/v1/messages", content=raw, headers=forwarded) as answer,
        ):
            if answer.status_code != 200:
                body = json.loads(await answer.aread())
                await _json(send, answer.status_code, body, dict(answer.headers))
                return
            kind = answer.headers.get("content-type", "application/json").encode()
            start = [(b"content-type", kind)]
            await send({"type": "http.response.start", "status": 200, "headers": start})
            received = b""
            async for chunk in answer.aiter_raw():
                received += chunk
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        request.completed = True
        save_cassette(self.cassette, request.body, parse_sse(received))


async def _watch_disconnect(request: Received, receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            request.disconnected_at = time.monotonic()
            request.disconnected.set()
            return


async def _json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    encoded = json.dumps(body).encode()
    extra = [
        (name.encode(), value.encode())
        for name, value in (headers or {}).items()
        if name.lower() in ("retry-after-ms", "retry-after", "x-should-retry", "request-id")
    ]
    response_headers = [(b"content-type", b"application/json"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": encoded})


@contextlib.contextmanager
def running(**options: Any) -> Iterator[MessagesAPI]:
    """A started stand-in, stopped at the end."""
    api = MessagesAPI(**options).start()
    try:
        yield api
    finally:
        api.stop()
