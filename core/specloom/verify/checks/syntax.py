"""Check 1, syntax: every `.py` file of the app compiles, with the app's own interpreter
(its Python version decides what is valid syntax). A tiny script given on the command
line compiles each file in memory (no bytecode written) and prints one JSON object:
the number of files and the errors with their 1-based lines and columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specloom.pipeline.cancel import CancelToken
from specloom.verify import sandbox
from specloom.verify.checks.common import (
    SKIPPED_DIRECTORIES,
    CheckResult,
    last_json_line,
    located,
    process_detail,
    reason,
    timing,
)
from specloom.verify.findings import Finding, Place, Span
from specloom.verify.sandbox import Limits
from specloom.verify.traceindex import TraceIndex

# Runs under the app's interpreter, in the app's directory; standard library only.
SCRIPT = f"""
import json, os
skip = {sorted(SKIPPED_DIRECTORIES)!r}
files, errors = 0, []
for root, dirs, names in os.walk("."):
    dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in skip)
    for name in sorted(names):
        if not name.endswith(".py"):
            continue
        path = os.path.relpath(os.path.join(root, name)).replace(os.sep, "/")
        files += 1
        try:
            with open(path, "rb") as handle:
                compile(handle.read(), path, "exec", dont_inherit=True)
        except SyntaxError as error:
            errors.append({{"file": path, "type": type(error).__name__, "message": error.msg,
                "line": error.lineno, "column": error.offset,
                "end_line": error.end_lineno, "end_column": error.end_offset}})
        except (ValueError, OSError) as error:
            errors.append({{"file": path, "type": type(error).__name__, "message": str(error)}})
print(json.dumps({{"files": files, "errors": errors}}))
"""


def error_span(error: dict[str, Any]) -> Span | None:
    """The 0-based range of an error given with 1-based lines and columns."""
    line = error.get("line")
    if not isinstance(line, int) or line < 1:
        return None
    column = error.get("column")
    column = column - 1 if isinstance(column, int) and column > 0 else 0
    end_line = error.get("end_line")
    end_column = error.get("end_column")
    if isinstance(end_line, int) and end_line >= line and isinstance(end_column, int):
        end = Place(line=end_line - 1, character=max(end_column - 1, 0))
        if end.line == line - 1 and end.character <= column:
            end = Place(line=line - 1, character=column + 1)
    else:
        end = Place(line=line - 1, character=column + 1)
    return Span(start=Place(line=line - 1, character=column), end=end)


def parse(report: dict[str, Any]) -> list[Finding]:
    """The findings of the script's report."""
    findings = []
    for error in report.get("errors", []):
        message = str(error.get("message") or error.get("type") or "does not compile")
        findings.append(
            Finding(
                check="syntax",
                kind="syntax-error",
                message=message,
                file=str(error.get("file", "")),
                range=error_span(error),
                detail={"type": error.get("type", "")},
            )
        )
    return findings


async def check_syntax(
    app_dir: Path,
    python: str,
    *,
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
    trace: TraceIndex | None = None,
) -> CheckResult:
    """Compile every Python file of the app with `python`."""
    trace = trace if trace is not None else TraceIndex.load(app_dir)
    completed = await sandbox.run([python, "-c", SCRIPT], app_dir, limits=limits, cancel=cancel)
    try:
        report = last_json_line(completed.stdout) if completed.ok else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        finding = Finding(
            check="syntax",
            kind="check-failed",
            message="the syntax check did not run: " + reason(completed),
            detail=process_detail(completed),
        )
        return CheckResult("syntax", [finding], {"files": 0, "errors": 1, **timing(completed)})
    findings = located(parse(report), trace)
    figures = {"files": int(report.get("files", 0)), "errors": len(findings), **timing(completed)}
    return CheckResult("syntax", findings, figures)
