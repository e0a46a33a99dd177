"""Findings: what a check of the verify loop found, located in the generated code and,
through the trace map, in the spec."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from specloom.pipeline.records import RunRecord, ValidationRecord


class Place(BaseModel):
    """0-based line and character, as LSP and `specloom-trace.json` count them."""

    line: int
    character: int = 0


class Span(BaseModel):
    """A range of lines of a file (end exclusive), as in `specloom-trace.json`."""

    start: Place
    end: Place

    @classmethod
    def lines(cls, first: int, last: int | None = None) -> Span:
        """Lines `first` to `last` (0-based, inclusive), whole."""
        return cls(start=Place(line=first), end=Place(line=(first if last is None else last) + 1))


Check = Literal["deploy", "syntax", "ruff", "mypy", "tests", "compliance", "health"]
Severity = Literal["error", "warning"]


class Finding(BaseModel):
    """One problem: which check found it, what it is, where in the app (path relative
    to the app's directory, 0-based range), and the requirement it breaks with that
    requirement's range in the spec (when the trace map knows them)."""

    check: Check
    kind: str  # a short code: "syntax-error", "F401", "test-failed", "missing-endpoint"...
    message: str
    file: str = ""
    range: Span | None = None
    requirement_id: str = ""
    spec_range: Span | None = None
    severity: Severity = "error"
    detail: dict[str, object] = Field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    def key(self) -> tuple[str, str, str, str]:
        """What makes two findings the same problem (to compare one attempt with the next)."""
        return (self.check, self.kind, self.file, self.requirement_id or self.message)

    def record(self) -> ValidationRecord:
        """The finding as the run store keeps it."""
        return ValidationRecord(
            kind=f"{self.check}:{self.kind}",
            message=self.message,
            file=self.file,
            requirement_id=self.requirement_id,
            severity=self.severity,
            range=self.range.model_dump() if self.range else None,
            spec_range=self.spec_range.model_dump() if self.spec_range else None,
        )

    def line(self) -> str:
        """`app/routers/book.py:12: [tests] F8: message` for a terminal."""
        where = self.file
        if where and self.range is not None:
            where += f":{self.range.start.line + 1}"
        requirement = f" {self.requirement_id}:" if self.requirement_id else ""
        prefix = f"{where}: " if where else ""
        return f"{prefix}[{self.check}]{requirement} {self.message}"


VERIFY_PHASES = (9, 10)  # validation and health: the phases whose records hold findings


def last_pass(run: RunRecord) -> list[Finding]:
    """The findings of a run's last pass of the verify loop: the store keeps those of
    every pass, the records of phases 9 and 10 those of the last one."""
    found: list[Finding] = []
    for number in VERIFY_PHASES:
        phase = run.phase(number)
        if phase is None or phase.status not in ("passed", "failed"):
            continue
        for item in phase.detail.get("findings") or []:
            try:
                found.append(Finding.model_validate(item))
            except ValueError:
                continue
    return found
