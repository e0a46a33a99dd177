"""Diagnostics of spec documents: on open at once, on change after a quiet time (the
`debounceMs` setting), cleared on close. A burst of changes publishes once, after the
last; a compile that a newer version overtook publishes nothing.

The compile of a change starts a little before the quiet time is over, as long before
as the document's recent compiles took (with a margin), and its diagnostics are
published when the quiet time ends: they arrive on time instead of a compile later.
A change within that lead throws one compile away; a burst of keystrokes still
compiles once."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from specloom_lsp.documents import Compiled
from specloom_lsp.findings import SEVERITIES, SOURCE
from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.spec.diagnostics import Diagnostic

logger = logging.getLogger(__name__)


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
    LEAD_MARGIN = 1.5  # the lead: this many times the recent compile time

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.published: dict[str, int | None] = {}
        self.compile_seconds: dict[str, float] = {}
        """uri -> how long its compiles take (a moving average)"""

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
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        lead = min(delay, self.LEAD_MARGIN * self.compile_seconds.get(uri, 0.0))
        if delay - lead > 0:
            await asyncio.sleep(delay - lead)
        if uri not in self.server.documents:
            return
        document = self.server.workspace.get_text_document(uri)
        version = document.version
        started = loop.time()
        compiled = await self.server.documents.compile(uri, document.source, version)
        if compiled is None or compiled.version != version:
            return  # closed, or a newer version is on its way
        took = loop.time() - started
        before = self.compile_seconds.get(uri)
        self.compile_seconds[uri] = took if before is None else 0.7 * before + 0.3 * took
        if due - loop.time() > 0:
            await asyncio.sleep(due - loop.time())  # the quiet time is not over yet
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
