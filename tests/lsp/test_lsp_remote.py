"""Remote mode: a server reachable from the network needs a token, a WebSocket client
presents it as a bearer token, and raw TCP stays on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.lsp.test_lsp_transports import INITIALIZE, free_port, wait_for

TOKEN = "s3cret-token-for-tests-0123456789"


def start(*args: str, token: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SPECLOOM_SERVER_TOKEN"}
    if token is not None:
        env["SPECLOOM_SERVER_TOKEN"] = token
    return subprocess.Popen(
        [sys.executable, "-m", "specloom_lsp", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def refused(*args: str, token: str | None = None) -> str:
    process = start(*args, token=token)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    return err.decode()


def test_a_server_on_the_network_without_a_token_refuses_to_start() -> None:
    message = refused("--ws", f"0.0.0.0:{free_port()}")
    assert "needs a token; set SPECLOOM_SERVER_TOKEN" in message


def test_raw_tcp_stays_on_loopback() -> None:
    message = refused("--tcp", f"0.0.0.0:{free_port()}", token=TOKEN)
    assert "raw TCP cannot carry a token" in message


def test_a_short_token_is_refused() -> None:
    message = refused("--ws", f"0.0.0.0:{free_port()}", token="short")
    assert "SPECLOOM_SERVER_TOKEN is too short" in message


def test_a_websocket_client_needs_the_token() -> None:
    port = free_port()
    process = start("--ws", f"127.0.0.1:{port}", token=TOKEN)
    try:
        wait_for(port, process)

        async def exchange(headers: dict[str, str]) -> dict[str, object]:
            url = f"ws://127.0.0.1:{port}"
            async with websockets.connect(url, additional_headers=headers) as connection:
                await connection.send(json.dumps(INITIALIZE))
                reply: dict[str, object] = json.loads(await connection.recv())
                return reply

        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            with pytest.raises(InvalidStatus) as rejected:
                asyncio.run(exchange(headers))
            assert rejected.value.response.status_code == 401
        reply = asyncio.run(exchange({"Authorization": f"Bearer {TOKEN}"}))
        assert reply["id"] == 1
    finally:
        process.kill()
        _, err = process.communicate(timeout=10)
    assert TOKEN not in err.decode()  # never logged
