"""The document store: which open documents are specs, and their compiles.

Each spec document keeps its latest compile (of one version of its text) and the
last good one (a compile without errors), for features that need a model while the
text is broken mid-edit. Compiles run in a worker thread, so the server keeps
answering while one is under way; a compile of a version the client has already
replaced is dropped, never recorded over a newer one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specloom.spec.compiler import CompileResult


@dataclass(slots=True)
class Compiled:
    """One compile of one version of a document's text."""

    version: int | None
    text: str
    result: CompileResult

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


@dataclass(slots=True)
class SpecDocument:
    uri: str
    path: str
    version: int | None = None
    latest: Compiled | None = None
    last_good: Compiled | None = None
    compiles: int = 0
    _inflight: dict[int | None, asyncio.Future[Compiled]] = field(default_factory=dict)

    @property
    def best(self) -> Compiled | None:
        """The latest compile when it has a model, else the last good one."""
        latest = self.latest
        if latest is not None and (latest.result.ir.domain.entities or self.last_good is None):
            return latest
        return self.last_good


class DocumentStore:
    """Spec documents by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, SpecDocument] = {}

    def open(self, uri: str, path: str, version: int | None) -> SpecDocument:
        document = self._documents.get(uri)
        if document is None:
            document = self._documents[uri] = SpecDocument(uri, path)
        document.version = version
        return document

    def changed(self, uri: str, version: int | None) -> None:
        document = self._documents.get(uri)
        if document is not None:
            document.version = version

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def get(self, uri: str) -> SpecDocument | None:
        return self._documents.get(uri)

    def __contains__(self, uri: str) -> bool:
        return uri in self._documents

    def uris(self) -> list[str]:
        return list(self._documents)

    async def compile(self, uri: str, text: str, version: int | None) -> Compiled | None:
        """Compile `text` (version `version` of the document) in a worker thread. The
        compile is recorded and returned unless the document was closed or has moved on
        to another version meanwhile (then None: the result is stale)."""
        document = self._documents.get(uri)
        if document is None:
            return None
        if (
            document.latest is not None
            and document.latest.version == version
            and (version is not None)
        ):
            return document.latest
        pending = document._inflight.get(version)
        if pending is None or version is None:
            pending = asyncio.ensure_future(self._run(document, text, version))
            document._inflight[version] = pending
        try:
            compiled = await asyncio.shield(pending)
        finally:
            if pending.done():
                document._inflight.pop(version, None)
        current = self._documents.get(uri)
        if current is not document or document.version != version:
            return None
        return compiled

    async def _run(self, document: SpecDocument, text: str, version: int | None) -> Compiled:
        # imported here, in the event loop's thread (never in the worker's: two threads
        # importing one package at once can deadlock), after the server's warm-up
        from specloom.spec.compiler import compile_spec

        result = await asyncio.to_thread(compile_spec, text, document.path)
        compiled = Compiled(version, text, result)
        document.compiles += 1
        if document.version == version:
            document.latest = compiled
            if result.ok:
                document.last_good = compiled
        return compiled
