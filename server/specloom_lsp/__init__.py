"""The pygls adapter: the language server in front of the Specloom engine.

This package is the only code that imports pygls (and lsprotocol); the engine in
`specloom` never imports it. `python -m specloom_lsp` (or `specloom lsp`) starts it.
"""

from __future__ import annotations

__all__ = ["SERVER_NAME"]

SERVER_NAME = "specloom"
