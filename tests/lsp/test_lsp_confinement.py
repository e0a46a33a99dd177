"""A shared server (`SPECLOOM_WORKSPACES`): a connection's commands run only on specs
inside its workspace root, a root outside the shared directory gets nothing done, and
no output directory leads out of the root."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from bench.lsp_client import LspProcess, ServerError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def generate(root: Path, spec: Path, options: dict[str, object]) -> object:
    server = await LspProcess.start([sys.executable, "-m", "specloom_lsp"], root)
    server.settings = dict(options)
    try:
        await server.initialize(root, options)
        await server.notify("initialized", {})
        uri = spec.as_uri()
        item = {"uri": uri, "languageId": "markdown", "version": 1,
                "text": spec.read_text(encoding="utf-8")}  # fmt: skip
        await server.notify("textDocument/didOpen", {"textDocument": item})
        reply = await server.request(
            "workspace/executeCommand",
            {"command": "specloom.generate", "arguments": [uri]},
            timeout=120,
        )
        return reply.result
    finally:
        await server.stop()


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "workspaces"
    (directory / "team").mkdir(parents=True)
    shutil.copy(EXAMPLES / "todo.spec.md", directory / "team" / "todo.spec.md")
    monkeypatch.setenv("SPECLOOM_WORKSPACES", str(directory))
    monkeypatch.setenv("SPECLOOM_LEARNING", "0")
    return directory


async def test_a_spec_inside_the_root_is_generated_inside_it(shared: Path) -> None:
    root = shared / "team"
    result = await generate(root, root / "todo.spec.md", {"trust": False})
    assert isinstance(result, dict)
    assert result["status"] == "incomplete"  # untrusted; generated
    assert (root / "todo-app" / "app" / "main.py").is_file()


async def test_a_spec_outside_the_root_is_refused(shared: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(EXAMPLES / "todo.spec.md", elsewhere / "todo.spec.md")
    with pytest.raises(ServerError, match="outside the workspace root"):
        await generate(shared / "team", elsewhere / "todo.spec.md", {"trust": False})
    assert not (elsewhere / "todo-app").exists()


async def test_an_output_directory_out_of_the_root_is_refused(shared: Path) -> None:
    root = shared / "team"
    options = {"trust": False, "outputDirectory": "../../escaped-{stem}"}
    with pytest.raises(ServerError, match=r"the output .* is outside the workspace root"):
        await generate(root, root / "todo.spec.md", options)
    assert not (shared.parent / "escaped-todo").exists()


async def test_a_root_outside_the_shared_directory_gets_nothing_done(
    shared: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(EXAMPLES / "todo.spec.md", mine / "todo.spec.md")
    with pytest.raises(ServerError, match="serves workspaces under"):
        await generate(mine, mine / "todo.spec.md", {"trust": False})
    assert not (mine / "todo-app").exists()
