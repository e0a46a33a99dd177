"""The server over TCP and WebSocket (loopback): it starts, listens, and answers
initialize like over stdio."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import websockets

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "specloom_lsp", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait(10)


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}")


def connect(port: int, process: subprocess.Popen[bytes]) -> socket.socket:
    """The first connection (the TCP server serves the client that connects first)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        with contextlib.suppress(OSError):
            return socket.create_connection(("127.0.0.1", port), 10)
        time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}")


def test_tcp_answers_initialize() -> None:
    port = free_port()
    with server("--tcp", f"127.0.0.1:{port}") as process, connect(port, process) as connection:
        connection.settimeout(20)
        body = json.dumps(INITIALIZE).encode()
        connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        head, _, rest = received.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        length = int(fields[b"Content-Length"])
        while len(rest) < length:
            rest += connection.recv(65536)
        reply = json.loads(rest[:length])
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"]["name"] == "specloom"


def test_websocket_answers_initialize() -> None:
    port = free_port()
    with server("--ws", f"127.0.0.1:{port}") as process:
        wait_for(port, process)

        async def exchange() -> dict[str, object]:
            async with websockets.connect(f"ws://127.0.0.1:{port}") as connection:
                await connection.send(json.dumps(INITIALIZE))
                reply: dict[str, object] = json.loads(await connection.recv())
                return reply

        reply = asyncio.run(exchange())
        assert reply["id"] == 1
        result = reply["result"]
        assert isinstance(result, dict)
        assert "hoverProvider" in result["capabilities"]
