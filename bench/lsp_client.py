"""A minimal LSP client for `bench lsp`: JSON-RPC over a server process's stdin and
stdout with asyncio pipes, and the time each reply or notification arrived.

The times are taken at the edges of the pipe: when a message has been written to the
server's stdin, and as soon as the last byte of a message has been read from its
stdout, before the client decodes it. What the client does with a message (decoding,
matching it to its request) is left out of the server's latency.

Requests from the server are answered at once: `workspace/configuration` with the
client's settings, `workspace/applyEdit` with "not applied" (the client advertises
neither), everything else (`window/workDoneProgress/create`,
`client/registerCapability`, ...) with null.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

Message = dict[str, Any]


class ServerError(Exception):
    """The server answered a request with an error, or went away."""


@dataclass(slots=True)
class Reply:
    result: Any
    ms: float
    """From the request written to its reply read."""


@dataclass(slots=True)
class Notification:
    method: str
    params: Any
    received: float
    """`time.perf_counter()` when its last byte was read."""


@dataclass
class _Waiter:
    method: str
    match: Callable[[Any], bool]
    future: asyncio.Future[Notification]


@dataclass
class LspProcess:
    """One language server process and the JSON-RPC connection to it."""

    process: asyncio.subprocess.Process
    started: float
    """`time.perf_counter()` just before the process was created."""
    settings: dict[str, Any] = field(default_factory=dict)
    """What `workspace/configuration` answers for the `specloom` section."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[tuple[Message, float]]] = field(default_factory=dict)
    _waiters: list[_Waiter] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, argv: list[str], cwd: Path, stderr: TextIO | None = None) -> LspProcess:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr if stderr is not None else asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        server = cls(process, started)
        server._reader = asyncio.create_task(server._read())
        return server

    # --- writing ------------------------------------------------------------------

    def _write(self, message: Message) -> float:
        body = json.dumps(message).encode("utf-8")
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return time.perf_counter()

    async def request(self, method: str, params: Any, timeout: float = 60.0) -> Reply:
        msg_id = next(self._ids)
        future: asyncio.Future[tuple[Message, float]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        sent = self._write({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        await self._drain()
        try:
            message, received = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(msg_id, None)
        if "error" in message:
            raise ServerError(f"{method}: {message['error'].get('message')}")
        return Reply(message.get("result"), (received - sent) * 1000)

    async def notify(self, method: str, params: Any) -> float:
        """Send a notification; the time it was written."""
        sent = self._write({"jsonrpc": "2.0", "method": method, "params": params})
        await self._drain()
        return sent

    async def _drain(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        with contextlib.suppress(ConnectionError):
            await stdin.drain()

    def expect(
        self, method: str, match: Callable[[Any], bool] = lambda _params: True
    ) -> asyncio.Future[Notification]:
        """A future for the next notification `method` whose params `match`: call it
        before sending what triggers the notification."""
        future: asyncio.Future[Notification] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(method, match, future))
        return future

    # --- reading ------------------------------------------------------------------

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = 0
                for line in header.decode("ascii").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await stdout.readexactly(length)
                received = time.perf_counter()
                self._dispatch(json.loads(body), received)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            gone = ServerError("the server closed its output")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(gone)
            for waiter in self._waiters:
                if not waiter.future.done():
                    waiter.future.set_exception(gone)

    def _dispatch(self, message: Message, received: float) -> None:
        if "method" not in message:
            future = self._pending.get(message.get("id", -1))
            if future is not None and not future.done():
                future.set_result((message, received))
            return
        if "id" in message:
            self._answer(message)
            return
        notification = Notification(message["method"], message.get("params"), received)
        for waiter in list(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
            elif waiter.method == notification.method and waiter.match(notification.params):
                waiter.future.set_result(notification)
                self._waiters.remove(waiter)

    def _answer(self, message: Message) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            items = (message.get("params") or {}).get("items") or []
            result = [self.settings for _ in items]
        elif message["method"] == "workspace/applyEdit":
            result = {"applied": False, "failureReason": "a benchmark client"}
        self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})

    # --- the session --------------------------------------------------------------

    async def initialize(self, root: Path, options: Any = None) -> Reply:
        return await self.request("initialize", initialize_params(root, options))

    async def stop(self, timeout: float = 10.0) -> None:
        """shutdown, exit, and the process's end (killed if it does not end)."""
        try:
            if self.process.returncode is None:
                await self.request("shutdown", None, timeout=timeout)
                await self.notify("exit", None)
                await asyncio.wait_for(self.process.wait(), timeout)
        except (ServerError, TimeoutError, ConnectionError):
            pass
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            if self._reader is not None:
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader


def initialize_params(root: Path, options: Any = None) -> Message:
    """What an editor sends: text synchronization with save, versioned diagnostics,
    Markdown hover and completion; no pull configuration, so `options` (the
    initializationOptions) are the settings."""
    uri = root.resolve().as_uri()
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "bench-lsp"},
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": root.name}],
        "initializationOptions": options,
        "capabilities": {
            "textDocument": {
                "synchronization": {"didSave": True, "dynamicRegistration": False},
                "publishDiagnostics": {"versionSupport": True},
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "completion": {"completionItem": {"snippetSupport": False}},
            },
            "workspace": {"workspaceFolders": True},
            "general": {"positionEncodings": ["utf-16"]},
        },
    }
