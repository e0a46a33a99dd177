"""The pygls adapter: the language server in front of the Specloom engine.

This package is the only code that imports pygls (and lsprotocol); the engine in
`specloom` never imports it. The server itself arrives with a later issue.
"""
