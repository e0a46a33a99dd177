"""Fixtures of the language server tests: the real server as a subprocess, driven by
pytest-lsp with the VS Code and Neovim capability sets."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

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


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND), params=CLIENTS)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest) -> Any:
    """A server initialized by the client of `request.param`."""
    await lsp_client.initialize_session(initialize_params(request.param))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def bare_client(lsp_client: LanguageClient) -> Any:
    """A server not initialized yet: the test initializes it its own way."""
    yield
    await lsp_client.shutdown_session()


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
