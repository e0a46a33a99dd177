"""The app's `specloom-trace.json` read both ways: from a requirement to its spec range
and its code, and from a place in the code (or a test) to the requirements there."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specloom.verify.findings import Finding, Span

TRACE_FILE = "specloom-trace.json"


@dataclass(frozen=True)
class Located:
    """A symbol the trace map knows: where it is and what it implements or tests."""

    path: str
    symbol: str
    span: Span
    requirement_id: str
    test: bool


@dataclass
class TraceIndex:
    requirements: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_path: dict[str, list[Located]] = field(default_factory=dict)

    @classmethod
    def load(cls, app_dir: Path) -> TraceIndex:
        """The index of an app's trace map (empty when the file is missing or unreadable:
        validation reports that itself)."""
        try:
            data = json.loads((app_dir / TRACE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls.of(data)

    @classmethod
    def of(cls, data: dict[str, Any]) -> TraceIndex:
        index = cls(requirements=dict(data.get("requirements", {})))
        for requirement_id, entry in index.requirements.items():
            for bucket, test in (("code", False), ("tests", True)):
                for place in entry.get(bucket, []):
                    located = Located(
                        path=place["path"],
                        symbol=place.get("symbol", ""),
                        span=Span.model_validate(place["range"]),
                        requirement_id=requirement_id,
                        test=test,
                    )
                    index.by_path.setdefault(located.path, []).append(located)
        return index

    def spec_span(self, requirement_id: str) -> Span | None:
        entry = self.requirements.get(requirement_id)
        if not entry or "spec_range" not in entry:
            return None
        return Span.model_validate(entry["spec_range"])

    def at(self, path: str, line: int) -> list[Located]:
        """The symbols of `path` whose range holds 0-based `line`, innermost first."""
        found = [
            place
            for place in self.by_path.get(path, [])
            if place.span.start.line <= line < max(place.span.end.line, place.span.start.line + 1)
        ]
        return sorted(found, key=lambda p: p.span.end.line - p.span.start.line)

    def symbol(self, path: str, symbol: str) -> list[Located]:
        """The places of a named symbol (a test function, a handler) in `path`."""
        return [place for place in self.by_path.get(path, []) if place.symbol == symbol]

    def code_of(self, requirement_id: str) -> list[Located]:
        entry = self.requirements.get(requirement_id, {})
        return (
            [
                place
                for places in self.by_path.values()
                for place in places
                if place.requirement_id == requirement_id and not place.test
            ]
            if entry
            else []
        )

    def locate(self, finding: Finding) -> Finding:
        """The finding with the requirement of its place (the innermost symbol there) and
        that requirement's spec range, where it has none yet."""
        if not finding.requirement_id and finding.file and finding.range is not None:
            places = self.at(finding.file, finding.range.start.line)
            if places:
                finding = finding.model_copy(update={"requirement_id": places[0].requirement_id})
        if finding.requirement_id and finding.spec_range is None:
            finding = finding.model_copy(
                update={"spec_range": self.spec_span(finding.requirement_id)}
            )
        return finding
