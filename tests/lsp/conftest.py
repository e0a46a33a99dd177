"""Fixtures of the language server tests: the real server as a subprocess, driven by
pytest-lsp with the VS Code and Neovim capability sets."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import CLIENTS, SERVER_COMMAND, apply_edit, initialize_params, refresh_code_lenses
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import default_feature

# every test client applies the server's workspace edits (generated files) to disk,
# and takes a request to refresh its code lenses (after a run), as editors do
default_feature(types.WORKSPACE_APPLY_EDIT)(apply_edit)
default_feature(types.WORKSPACE_CODE_LENS_REFRESH)(refresh_code_lenses)


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
