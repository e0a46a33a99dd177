"""The server's log as an operator reads it: JSON lines naming the run and the request
each record belongs to, and no secret of the server's environment, at any level."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import pytest
from specloom_lsp.logs import MASK, ContextFilter, SecretsFilter, secrets_of

from bench.lsp_client import LspProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "sk-ant-api03-test-secret-0123456789abcdef"
TOKEN = "server-token-secret-0123456789"
PASSWORD = "graph-password-secret-42"


def test_the_secrets_of_the_environment_are_masked() -> None:
    environ = {
        "ANTHROPIC_API_KEY": KEY,
        "SPECLOOM_SERVER_TOKEN": TOKEN,
        "SPECLOOM_GRAPH_PASSWORD": PASSWORD,
        "SPECLOOM_STORE_URL": "postgresql://specloom:db-password-secret@db:5432/specloom",
        "SPECLOOM_CACHE_URL": "redis://redis:6379/0",
    }
    secrets = secrets_of(environ)
    assert set(secrets) == {KEY, TOKEN, PASSWORD, "db-password-secret"}
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "key %s and %s", (KEY, "url with db-password-secret"), None
    )
    SecretsFilter(secrets).filter(record)
    assert record.getMessage() == f"key {MASK} and url with {MASK}"


async def test_json_lines_name_the_run_and_the_request_and_hold_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("SPECLOOM_SERVER_TOKEN", TOKEN)
    monkeypatch.setenv("SPECLOOM_GRAPH_PASSWORD", PASSWORD)
    monkeypatch.setenv("SPECLOOM_LEARNING", "0")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(EXAMPLES / "todo.spec.md", workspace / "todo.spec.md")
    log = tmp_path / "server.log"
    argv = [sys.executable, "-m", "specloom_lsp", "--log-file", str(log)]
    argv += ["--log-format", "json", "--log-level", "DEBUG"]
    server = await LspProcess.start(argv, workspace)
    try:
        await server.initialize(workspace, {"trust": False})
        await server.notify("initialized", {})
        uri = (workspace / "todo.spec.md").as_uri()
        text = (workspace / "todo.spec.md").read_text(encoding="utf-8")
        item = {"uri": uri, "languageId": "markdown", "version": 1, "text": text}
        await server.notify("textDocument/didOpen", {"textDocument": item})
        reply = await server.request(
            "workspace/executeCommand",
            {"command": "specloom.generate", "arguments": [uri]},
            timeout=120,
        )
        run_id = reply.result["id"]
    finally:
        await server.stop()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    of_run = [r for r in records if r.get("run_id") == run_id]
    assert any("generate of todo.spec.md" in r["message"] for r in of_run), records[-5:]
    assert all(r["request_id"] is not None for r in of_run if "generate of" in r["message"])
    everything = log.read_text(encoding="utf-8")
    for secret in (KEY, TOKEN, PASSWORD):
        assert secret not in everything


def test_records_outside_a_run_or_a_request_say_so() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", None, None)
    ContextFilter().filter(record)
    assert record.run_id is None  # type: ignore[attr-defined]
    assert record.request_id is None  # type: ignore[attr-defined]
