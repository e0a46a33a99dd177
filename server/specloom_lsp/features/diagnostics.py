"""Diagnostics of spec documents: on open at once, on change after a quiet time (the
`debounceMs` setting), cleared on close. A burst of changes compiles once, after the
last; a compile that a newer version overtook publishes nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from specloom_lsp.documents import Compiled
from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.spec.diagnostics import Diagnostic

logger = logging.getLogger(__name__)

SOURCE = "specloom"
SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def to_lsp(
    server: SpecloomLanguageServer, compiled: Compiled, diagnostic: Diagnostic
) -> types.Diagnostic:
    return types.Diagnostic(
        range=server.to_client_range(compiled.lines, diagnostic.range),
        message=diagnostic.message,
        severity=SEVERITIES.get(diagnostic.severity, types.DiagnosticSeverity.Error),
        code=diagnostic.code,
        source=SOURCE,
    )


class DiagnosticsFeature:
    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.published: dict[str, int | None] = {}

    def schedule(self, uri: str, delay: float) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self.run(uri, delay))
        self.pending[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self.pending.get(uri) is task:
            del self.pending[uri]
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("diagnostics of %s failed: %s", uri, error, exc_info=error)

    async def run(self, uri: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        if uri not in self.server.documents:
            return
        document = self.server.workspace.get_text_document(uri)
        version = document.version
        compiled = await self.server.documents.compile(uri, document.source, version)
        if compiled is None or compiled.version != version:
            return  # closed, or a newer version is on its way
        self.publish(uri, compiled)

    def publish(self, uri: str, compiled: Compiled) -> None:
        diagnostics = [to_lsp(self.server, compiled, d) for d in compiled.result.diagnostics]
        self.server.publish_diagnostics(uri, diagnostics, compiled.version)
        self.published[uri] = compiled.version

    def clear(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        if self.published.pop(uri, "none") != "none":
            self.server.publish_diagnostics(uri, [])

    def refresh_all(self) -> None:
        for uri in list(self.published):
            if uri not in self.server.documents:
                self.clear(uri)
        for uri in self.server.documents.uris():
            self.schedule(uri, 0)


def setup(server: SpecloomLanguageServer) -> None:
    feature = DiagnosticsFeature(server)

    @server.on(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        if params.text_document.uri in server.documents:
            feature.schedule(params.text_document.uri, 0)

    @server.on(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in server.documents:
            feature.schedule(params.text_document.uri, server.settings.debounce_ms / 1000)

    @server.on(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in server.documents and uri not in feature.published:
            feature.schedule(uri, 0)

    @server.on(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        feature.clear(params.text_document.uri)

    server.on_settings(lambda _settings: feature.refresh_all())
