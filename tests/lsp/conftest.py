"""Fixtures of the language server tests: the real server as a subprocess, driven by
pytest-lsp with the VS Code and Neovim capability sets."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import CLIENTS, SERVER_COMMAND, initialize_params
from pytest_lsp import ClientServerConfig, LanguageClient


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
