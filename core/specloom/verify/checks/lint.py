"""Check 2, ruff: `ruff check --output-format json --no-fix .` in the app's directory.

Ruff belongs to Specloom's own environment (`sys.executable -m ruff`); the app's
`pyproject.toml` says which rules apply. Its JSON report is a list of diagnostics with
an absolute `filename`, a rule `code` (None for a syntax error) and 1-based `location`
and `end_location` (`row`, `column`, the end exclusive): one finding each, kind = the
rule code. `--no-cache` keeps `.ruff_cache` out of the app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from specloom.pipeline.cancel import CancelToken
from specloom.verify import sandbox
from specloom.verify.checks.common import (
    CheckResult,
    located,
    process_detail,
    reason,
    relative,
    timing,
)
from specloom.verify.findings import Finding, Place, Span
from specloom.verify.sandbox import Limits
from specloom.verify.traceindex import TraceIndex

COMMAND = ("-m", "ruff", "check", "--output-format", "json", "--no-fix", "--no-cache", ".")


def _place(location: Any) -> Place | None:
    if not isinstance(location, dict):
        return None
    row, column = location.get("row"), location.get("column")
    if not isinstance(row, int) or row < 1:
        return None
    return Place(line=row - 1, character=max(column - 1, 0) if isinstance(column, int) else 0)


def parse(diagnostics: list[dict[str, Any]], app_dir: Path) -> list[Finding]:
    """One finding per diagnostic of ruff's JSON report."""
    findings = []
    for diagnostic in diagnostics:
        start = _place(diagnostic.get("location"))
        end = _place(diagnostic.get("end_location"))
        span = None
        if start is not None:
            span = Span(
                start=start, end=end if end is not None and end.line >= start.line else start
            )
        code = diagnostic.get("code")
        fix = diagnostic.get("fix")
        findings.append(
            Finding(
                check="ruff",
                kind=str(code) if code else "syntax-error",
                message=str(diagnostic.get("message", "")),
                file=relative(str(diagnostic.get("filename", "")), app_dir),
                range=span,
                detail={
                    "name": diagnostic.get("name") or "",
                    "url": diagnostic.get("url") or "",
                    "fixable": isinstance(fix, dict),
                },
            )
        )
    return findings


async def check_ruff(
    app_dir: Path,
    *,
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
    trace: TraceIndex | None = None,
) -> CheckResult:
    """Lint the app with ruff (Specloom's own), as configured by the app."""
    trace = trace if trace is not None else TraceIndex.load(app_dir)
    completed = await sandbox.run([sys.executable, *COMMAND], app_dir, limits=limits, cancel=cancel)
    diagnostics: Any = None
    if completed.returncode in (0, 1) and not completed.timed_out:
        try:
            diagnostics = json.loads(completed.stdout or "[]")
        except ValueError:
            diagnostics = None
    if not isinstance(diagnostics, list):
        finding = Finding(
            check="ruff",
            kind="check-failed",
            message="ruff did not run: " + reason(completed),
            detail=process_detail(completed),
        )
        return CheckResult("ruff", [finding], {"diagnostics": 0, **timing(completed)})
    findings = located(parse(diagnostics, app_dir), trace)
    figures = {
        "diagnostics": len(findings),
        "files": len({f.file for f in findings}),
        "rules": dict(sorted(_count(f.kind for f in findings).items())),
        **timing(completed),
    }
    return CheckResult("ruff", findings, figures)


def _count(kinds: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return counts
