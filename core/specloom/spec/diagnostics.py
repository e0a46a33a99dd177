"""Diagnostics: what the compiler has to say about a spec, with stable codes.

Codes never change meaning once published; `docs/spec-language.md` lists them
all. Every message says what is wrong and how to fix it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from specloom.ir.common import SourceRange

Severity = Literal["error", "warning", "information", "hint"]

SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "information": 2, "hint": 3}

# code -> (default severity, short title)
CODES: dict[str, tuple[Severity, str]] = {
    # SL1xx: the document itself
    "SL100": ("error", "unreadable file"),
    "SL101": ("error", "nothing to compile"),
    "SL102": ("warning", "unknown section"),
    "SL103": ("warning", "text outside any section"),
    "SL104": ("warning", "sentence not interpreted"),
    "SL105": ("warning", "requirement written as prose"),
    "SL106": ("warning", "block not interpreted"),
    "SL107": ("error", "duplicate requirement ID"),
    "SL108": ("warning", "more than one title"),
    # SL2xx: entities and fields
    "SL201": ("error", "unknown type"),
    "SL202": ("error", "duplicate entity"),
    "SL203": ("error", "duplicate field"),
    "SL204": ("error", "dangling reference"),
    "SL205": ("error", "enum default outside the enum"),
    "SL206": ("error", "constraint does not fit the type"),
    "SL207": ("error", "contradictory constraints"),
    "SL208": ("error", "constraint not understood"),
    "SL209": ("warning", "unreachable enum state"),
    "SL210": ("error", "invalid pattern"),
    "SL211": ("error", "field line not understood"),
    "SL212": ("error", "collection without a way back"),
    "SL213": ("error", "invalid name"),
    "SL214": ("warning", "entity without fields"),
    "SL215": ("error", "unknown field in entity constraint"),
    "SL216": ("warning", "entity unreachable through the API"),
    "SL217": ("warning", "read-only field that never gets a value"),
    # SL3xx: endpoints
    "SL301": ("error", "endpoint line not understood"),
    "SL302": ("error", "path names no entity"),
    "SL303": ("error", "path parameter mismatch"),
    "SL304": ("error", "duplicate endpoint"),
    "SL305": ("error", "unknown field in endpoint"),
    "SL306": ("error", "action without a flow"),
    "SL307": ("warning", "endpoint clause not understood"),
    # SL4xx: flows
    "SL401": ("error", "step not understood"),
    "SL402": ("error", "unknown name in flow"),
    "SL403": ("error", "unknown entity in flow"),
    "SL404": ("error", "unknown field in flow"),
    "SL405": ("error", "unknown enum state"),
    "SL406": ("error", "flow without an endpoint"),
    "SL407": ("error", "type mismatch"),
    "SL408": ("error", "invalid status code"),
    "SL409": ("warning", "step after respond"),
    "SL410": ("error", "read-only or derived target"),
    "SL411": ("error", "input not understood"),
    "SL412": ("error", "required field left unset"),
    # SL5xx: rules
    "SL501": ("error", "rule not understood"),
    "SL502": ("error", "unknown entity in rule"),
    "SL503": ("error", "unknown field in rule"),
    "SL504": ("error", "no time range for overlap"),
    # SL6xx: error policy
    "SL601": ("error", "error policy line not understood"),
    "SL602": ("warning", "error kind given twice"),
    # SL7xx: planning
    "SL701": ("error", "dependency cycle"),
    "SL702": ("error", "unknown dependency"),
}


class Diagnostic(BaseModel):
    """One finding on a spec: a stable code, a severity, where, and how to fix it."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    range: SourceRange

    def format(self, path: str) -> str:
        start = self.range.start
        where = f"{path}:{start.line + 1}:{start.column + 1}"
        return f"{where}: {self.severity} {self.code} {self.message}"


class DiagnosticSink:
    """Collects diagnostics while a spec is compiled."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(
        self, code: str, message: str, where: SourceRange, severity: Severity | None = None
    ) -> None:
        self.items.append(
            Diagnostic(
                code=code,
                severity=severity or CODES[code][0],
                message=message,
                range=where,
            )
        )

    def sorted(self) -> list[Diagnostic]:
        return sorted(
            self.items,
            key=lambda d: (
                d.range.start.line,
                d.range.start.column,
                SEVERITY_ORDER[d.severity],
                d.code,
                d.message,
            ),
        )
