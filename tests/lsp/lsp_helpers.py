"""What the language server tests share: paths, the server command, the client
capability sets, initialize parameters, and opening a document.

(Not in conftest.py: several test directories have one, and `from conftest import`
would pick whichever was imported first.)"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SERVER_COMMAND = [sys.executable, "-m", "specloom_lsp"]
CLIENTS = ["visual-studio-code", "neovim"]
LIBRARY = EXAMPLES / "library.spec.md"


def initialize_params(
    client_name: str, options: Any = None, *, configuration: bool = True
) -> types.InitializeParams:
    capabilities = client_capabilities(client_name)
    if not configuration and capabilities.workspace is not None:
        capabilities.workspace.configuration = False
    return types.InitializeParams(
        capabilities=capabilities,
        root_uri=ROOT.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=ROOT.as_uri(), name="main")],
        initialization_options=options,
    )


async def open_document(
    client: LanguageClient,
    path: Path,
    text: str | None = None,
    *,
    timeout: float = 10,
    language_id: str = "markdown",
) -> types.PublishDiagnosticsParams:
    """Open a document and wait for its diagnostics."""
    waiting = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(),
                language_id=language_id,
                version=1,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )
    result: types.PublishDiagnosticsParams = await asyncio.wait_for(waiting, timeout)
    assert result.uri == path.as_uri()
    return result


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def _offset(text: str, position: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: position.line]) + position.character


def edit_file(path: Path, edits: Sequence[Any]) -> None:
    """Apply text edits to a file (positions as characters: the test files are ASCII)."""
    text = path.read_text(encoding="utf-8")
    for item in sorted(edits, key=lambda e: _offset(text, e.range.start), reverse=True):
        start, end = _offset(text, item.range.start), _offset(text, item.range.end)
        text = text[:start] + item.new_text + text[end:]
    path.write_text(text, encoding="utf-8")


def apply_to_disk(edit: types.WorkspaceEdit) -> None:
    """Do what an editor that saves what it edits does with a workspace edit."""
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            path = path_of(change.uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("")
        elif isinstance(change, types.DeleteFile):
            path_of(change.uri).unlink(missing_ok=True)
        elif isinstance(change, types.TextDocumentEdit):
            edit_file(path_of(change.text_document.uri), change.edits)
    for uri, edits in (edit.changes or {}).items():
        edit_file(path_of(uri), edits)


def apply_edit(
    client: LanguageClient, params: types.ApplyWorkspaceEditParams
) -> types.ApplyWorkspaceEditResult:
    """The test clients' `workspace/applyEdit`: applied to disk, and kept in
    `client.applied_edits`."""
    edits: list[types.ApplyWorkspaceEditParams] = client.__dict__.setdefault("applied_edits", [])
    edits.append(params)
    apply_to_disk(params.edit)
    return types.ApplyWorkspaceEditResult(applied=True)


def refresh_code_lenses(client: LanguageClient, params: None) -> None:
    """The test clients' `workspace/codeLens/refresh`: counted in
    `client.code_lens_refreshes`."""
    client.__dict__["code_lens_refreshes"] = client.__dict__.get("code_lens_refreshes", 0) + 1
