"""Prometheus metrics of the server, scraped as Prometheus would: the requests it
answered, the runs by outcome and the time of their phases."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bench.lsp_client import LspProcess
from tests.lsp.test_lsp_transports import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition text, or None."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_requests_runs_and_phases_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECLOOM_LEARNING", "0")
    shutil.copy(EXAMPLES / "todo.spec.md", tmp_path / "todo.spec.md")
    port = free_port()
    argv = [sys.executable, "-m", "specloom_lsp", "--metrics", f"127.0.0.1:{port}"]
    server = await LspProcess.start(argv, tmp_path)
    try:
        await server.initialize(tmp_path, {"trust": False})
        await server.notify("initialized", {})
        uri = (tmp_path / "todo.spec.md").as_uri()
        text = (tmp_path / "todo.spec.md").read_text(encoding="utf-8")
        item = {"uri": uri, "languageId": "markdown", "version": 1, "text": text}
        await server.notify("textDocument/didOpen", {"textDocument": item})
        await server.request(
            "workspace/executeCommand",
            {"command": "specloom.generate", "arguments": [uri]},
            timeout=120,
        )
        await server.request("textDocument/hover", {
            "textDocument": {"uri": uri}, "position": {"line": 0, "character": 2},
        })  # fmt: skip
        async with httpx.AsyncClient() as client:
            scraped = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        await server.stop()
    assert sample(scraped, "specloom_lsp_requests_total", method="initialize", outcome="ok") == 1
    assert sample(scraped, "specloom_lsp_requests_total", method="textDocument/hover", outcome="ok")
    command = sample(
        scraped,
        "specloom_lsp_request_seconds_count",
        method="workspace/executeCommand",
    )
    assert command == 1
    runs = sample(scraped, "specloom_runs_total", command="specloom.generate", status="incomplete")
    assert runs == 1  # untrusted: not verified
    assert sample(scraped, "specloom_phase_seconds_count", phase="6") == 1
    assert sample(scraped, "specloom_phase_seconds_count", phase="7") is None  # skipped
    assert "process_resident_memory_bytes" in scraped


def test_metrics_stay_on_loopback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "specloom_lsp", "--metrics", f"0.0.0.0:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "they listen on loopback only" in done.stderr
