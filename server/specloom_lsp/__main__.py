"""`python -m specloom_lsp`: start the language server."""

from __future__ import annotations

from specloom_lsp.cli import main

if __name__ == "__main__":
    main()
