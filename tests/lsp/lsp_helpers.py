"""What the language server tests share: paths, the server command, the client
capability sets, initialize parameters, and opening a document.

(Not in conftest.py: several test directories have one, and `from conftest import`
would pick whichever was imported first.)"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

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
