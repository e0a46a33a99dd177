"""A bare pygls language server with no features: the floor `bench lsp` measures the
Specloom server's start-up against (`python -m bench.lsp_bare`, over stdio)."""

from __future__ import annotations

from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-pygls", "0")

if __name__ == "__main__":
    server.start_io()
