"""Remote mode: a server reachable from the network needs a token, a WebSocket client
presents it as a bearer token, and raw TCP stays on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.lsp.test_lsp_transports import INITIALIZE, free_port, wait_for

TOKEN = "s3cret-token-for-tests-0123456789"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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


def test_several_editors_share_one_server_without_sharing_state(tmp_path: Path) -> None:
    port = free_port()
    process = start("--ws", f"127.0.0.1:{port}", token=TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    spec = tmp_path / "todo.spec.md"
    spec.write_text((EXAMPLES / "todo.spec.md").read_text(encoding="utf-8"), encoding="utf-8")
    uri = spec.as_uri()

    async def call(connection: Any, method: str, params: Any, ident: int) -> Any:
        await connection.send(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method,
                                          "params": params}))  # fmt: skip
        while True:
            message = json.loads(await connection.recv())
            if message.get("id") == ident and "method" not in message:
                return message

    async def notify(connection: Any, method: str, params: Any) -> None:
        await connection.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    async def scenario() -> tuple[Any, Any, Any]:
        url = f"ws://127.0.0.1:{port}"
        async with (
            websockets.connect(url, additional_headers=headers) as first,
            websockets.connect(url, additional_headers=headers) as second,
        ):
            for connection in (first, second):
                params = {"capabilities": {}, "rootUri": tmp_path.as_uri()}
                assert (await call(connection, "initialize", params, 1))["result"]
                await notify(connection, "initialized", {})
            item = {"uri": uri, "languageId": "markdown", "version": 1,
                    "text": spec.read_text(encoding="utf-8")}  # fmt: skip
            await notify(first, "textDocument/didOpen", {"textDocument": item})
            symbols = {"textDocument": {"uri": uri}}
            mine = await call(first, "textDocument/documentSymbol", symbols, 2)
            theirs = await call(second, "textDocument/documentSymbol", symbols, 2)
            # the first editor leaves: the second goes on, and a third can come
            await call(first, "shutdown", None, 3)
            await notify(first, "exit", None)
            still = await call(second, "textDocument/documentSymbol", symbols, 3)
        async with websockets.connect(url, additional_headers=headers) as third:
            params = {"capabilities": {}, "rootUri": tmp_path.as_uri()}
            assert (await call(third, "initialize", params, 1))["result"]
        return mine, theirs, still

    try:
        wait_for(port, process)
        mine, theirs, still = asyncio.run(scenario())
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert mine["result"]  # the editor that opened the spec sees its outline
    assert not theirs.get("result")  # the other has not opened it: nothing shared
    assert still["id"] == 3  # the second editor is still answered
