"""Malformed input: the server answers with errors (or diagnostics) and goes on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lsp_helpers import LIBRARY, ROOT, SERVER_COMMAND, open_document
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

VSCODE_ONLY = pytest.mark.parametrize("client", ["visual-studio-code"], indirect=True)


@VSCODE_ONLY
async def test_unknown_method_and_bad_params_leave_the_server_answering(
    client: LanguageClient,
) -> None:
    await open_document(client, LIBRARY)
    with pytest.raises(JsonRpcException) as unknown:
        await asyncio.wait_for(client.protocol.send_request_async("specloom/nothing", {}), 10)
    assert unknown.value.code == -32601
    # a notification whose params do not fit its method: logged, no reply is due
    client.protocol._send_data(
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 1}}
    )
    # a position far past the end of the document is no error
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=LIBRARY.as_uri()),
            position=types.Position(10_000, 3),
        )
    )
    assert hover is None
    # and the server still answers
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=LIBRARY.as_uri()))
    )
    assert symbols


@VSCODE_ONLY
async def test_a_huge_document_gets_a_diagnostic_and_the_server_goes_on(
    client: LanguageClient,
) -> None:
    huge = ROOT / "examples" / "huge.spec.md"  # never written: the text is sent
    text = "# Huge\n\n" + ("lorem ipsum dolor sit amet " * 40 + "\n") * 3000  # about 3.2 MB
    published = await open_document(client, huge, text, timeout=30)
    assert [d.code for d in published.diagnostics] == ["SL100"]
    folding = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=types.TextDocumentIdentifier(uri=huge.as_uri()))
    )
    assert list(folding or []) == []
    published = await open_document(client, LIBRARY)
    assert list(published.diagnostics) == []


def _frame(payload: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(payload) + payload


def _message(**fields: Any) -> bytes:
    return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())


def _read(stream: Any) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the server closed its output")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body: dict[str, Any] = json.loads(stream.read(length))
    return body


def _reply(stream: Any, msg_id: Any) -> dict[str, Any]:
    """The next message that answers `msg_id` (notifications are skipped)."""
    while True:
        message = _read(stream)
        if "method" not in message and message.get("id") == msg_id:
            return message


def test_raw_bytes_over_stdio() -> None:
    """Content-Length framing written by hand: bad JSON, an unknown method, wrong params,
    then ordinary requests, and a clean shutdown."""
    process = subprocess.Popen(
        SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(
            _message(
                id=1,
                method="initialize",
                params={"processId": None, "rootUri": ROOT.as_uri(), "capabilities": {}},
            )
        )
        process.stdin.flush()
        initialized = _reply(process.stdout, 1)
        assert "documentSymbolProvider" in initialized["result"]["capabilities"]
        process.stdin.write(_message(method="initialized", params={}))
        process.stdin.write(_frame(b'{"jsonrpc": "2.0", "id": 2, "method": '))  # cut short
        process.stdin.write(_message(id=3, method="no/such/method", params={}))
        process.stdin.write(_message(id=4, method="textDocument/hover", params={"nope": 1}))
        process.stdin.write(
            _message(
                method="textDocument/didOpen",
                params={
                    "textDocument": {
                        "uri": LIBRARY.as_uri(),
                        "languageId": "markdown",
                        "version": 1,
                        "text": LIBRARY.read_text(encoding="utf-8"),
                    }
                },
            )
        )
        process.stdin.write(
            _message(
                id=5,
                method="textDocument/hover",
                params={
                    "textDocument": {"uri": LIBRARY.as_uri()},
                    "position": {"line": 7, "character": 5},
                },
            )
        )
        process.stdin.flush()
        parse_error = _reply(process.stdout, None)
        assert parse_error["error"]["code"] == -32700
        assert _reply(process.stdout, 3)["error"]["code"] == -32601
        assert _reply(process.stdout, 4)["error"]["code"] == -32602
        hover = _reply(process.stdout, 5)
        assert "**entity** `Book`" in hover["result"]["contents"]["value"]
        process.stdin.write(_message(id=6, method="shutdown"))
        process.stdin.flush()
        assert _reply(process.stdout, 6)["result"] is None
        process.stdin.write(_message(method="exit"))
        process.stdin.flush()
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_specloom_lsp_command_starts_the_server() -> None:
    """`specloom lsp --help` reaches the server's own command line."""
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "specloom"), "lsp", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 60
    assert "--tcp HOST:PORT" in result.stdout, result.stderr
