"""The server's features: each module has a `setup(server)` that registers its handlers
with `server.on(method)`; `specloom_lsp.server.FEATURES` lists them in order."""
