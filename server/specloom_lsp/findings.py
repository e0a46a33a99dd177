"""Validation findings as diagnostics: on the generated files they are about, and on
the spec lines of their requirements.

Each spec keeps the set of URIs that had findings after its last run, so a later run
that no longer has a finding clears it (an empty list for each file that had one).
The spec document's own diagnostics are the compiler's (of its latest compile) with
the findings after them: every `publishDiagnostics` of a spec that has findings (the
diagnostics feature's too, after an edit) carries them until the next run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.pipeline.records import ValidationRecord

SOURCE = "specloom"
SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def to_range(value: dict[str, Any] | None) -> types.Range:
    """A finding's range ({"start": {"line", "character"}, "end": ...}); the first line
    when it has none."""
    if not value:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    start = value.get("start") or {}
    end = value.get("end") or start
    return types.Range(
        types.Position(max(0, int(start.get("line", 0))), max(0, int(start.get("character", 0)))),
        types.Position(max(0, int(end.get("line", 0))), max(0, int(end.get("character", 0)))),
    )


def to_diagnostic(finding: ValidationRecord, *, on_spec: bool) -> types.Diagnostic:
    message = finding.message
    if on_spec and finding.file:
        message = f"{finding.file}: {message}"
    return types.Diagnostic(
        range=to_range(finding.spec_range if on_spec else finding.range),
        message=message,
        severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Error),
        code=finding.kind,
        source=SOURCE,
    )


class FindingsPublisher:
    """Publishes the findings of each spec's latest generate or validate run."""

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.published: dict[str, set[str]] = {}
        """spec URI -> the URIs of generated files that have findings of it."""

    def publish(self, spec_uri: str, out_dir: Path, findings: list[ValidationRecord]) -> None:
        by_file: dict[str, list[types.Diagnostic]] = {}
        spec_diagnostics: list[types.Diagnostic] = []
        for finding in findings:
            if finding.file:
                uri = (out_dir / finding.file).resolve().as_uri()
                by_file.setdefault(uri, []).append(to_diagnostic(finding, on_spec=False))
            if finding.spec_range:
                spec_diagnostics.append(to_diagnostic(finding, on_spec=True))
        before = self.published.get(spec_uri, set())
        for uri in sorted(before - set(by_file)):
            self._send(uri, [])
        for uri, diagnostics in by_file.items():
            self._send(uri, diagnostics)
        self.published[spec_uri] = set(by_file)
        had_spec = bool(self.server.run_diagnostics.get(spec_uri))
        self.server.run_diagnostics[spec_uri] = spec_diagnostics  # go with every publish
        if spec_diagnostics or had_spec:
            self._send_spec(spec_uri)

    def _send_spec(self, spec_uri: str) -> None:
        compiled: list[types.Diagnostic] = []
        version: int | None = None
        document = self.server.documents.get(spec_uri)
        if document is not None and document.latest is not None:
            latest = document.latest
            version = latest.version
            from specloom_lsp.features.diagnostics import to_lsp

            compiled = [to_lsp(self.server, latest, d) for d in latest.result.diagnostics]
        self._send(spec_uri, compiled, version)

    def _send(
        self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None
    ) -> None:
        self.server.publish_diagnostics(uri, diagnostics, version)
