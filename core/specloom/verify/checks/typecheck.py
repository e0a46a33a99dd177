"""Check 3, mypy: `<python> -m mypy -O json .` in the app's directory, with the app's
interpreter (it has the libraries the app imports), forked from its warm interpreter
when it has one; the app's `pyproject.toml` configures mypy (strict, the pydantic
plugin).

mypy (1.11 and later) prints one JSON object per line: `file` (relative), `line`
(1-based), `column` (0-based), `end_line`, `end_column`, `message`, `hint`, `code` and
`severity` (`error` or `note`). Each error is a finding (kind = the error code); a note
belongs to the error before it. An interpreter without mypy gives one warning finding
saying the check did not run: the check is never skipped silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from specloom.pipeline.cancel import CancelToken
from specloom.verify import sandbox
from specloom.verify.checks.common import (
    CheckResult,
    located,
    missing_module,
    process_detail,
    reason,
    relative,
    timing,
)
from specloom.verify.findings import Finding, Place, Span
from specloom.verify.sandbox import Limits
from specloom.verify.traceindex import TraceIndex


def _span(entry: dict[str, Any]) -> Span | None:
    line = entry.get("line")
    if not isinstance(line, int) or line < 1:
        return None
    column = entry.get("column")
    start = Place(line=line - 1, character=column if isinstance(column, int) and column > 0 else 0)
    end_line, end_column = entry.get("end_line"), entry.get("end_column")
    if isinstance(end_line, int) and end_line >= line and isinstance(end_column, int):
        end = Place(line=end_line - 1, character=max(end_column, 0))
        if end.line == start.line and end.character <= start.character:
            end = Place(line=start.line, character=start.character + 1)
    else:
        end = Place(line=start.line + 1)
    return Span(start=start, end=end)


def parse(output: str, app_dir: Path) -> tuple[list[Finding], int]:
    """The findings of mypy's JSON lines, and how many lines were JSON at all."""
    findings: list[Finding] = []
    entries = 0
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        entries += 1
        message = str(entry.get("message", ""))
        if entry.get("hint"):
            message += f" ({entry['hint']})"
        if entry.get("severity") == "note":
            if findings and findings[-1].file == relative(str(entry.get("file", "")), app_dir):
                notes = findings[-1].detail.setdefault("notes", [])
                if isinstance(notes, list):
                    notes.append(message)
            continue
        findings.append(
            Finding(
                check="mypy",
                kind=str(entry.get("code") or "error"),
                message=message,
                file=relative(str(entry.get("file", "")), app_dir),
                range=_span(entry),
                severity="error" if entry.get("severity", "error") == "error" else "warning",
            )
        )
    return findings, entries


async def check_mypy(
    app_dir: Path,
    python: str,
    *,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
    trace: TraceIndex | None = None,
) -> CheckResult:
    """Type-check the app with the mypy of `python`. `cache_dir` (kept between runs, out of
    the app) saves analysing the libraries again: a cold run takes seconds, a warm one
    a fraction of a second."""
    trace = trace if trace is not None else TraceIndex.load(app_dir)
    argv = [python, "-m", "mypy", "-O", "json", "--no-error-summary"]
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--cache-dir", str(cache_dir)]
    else:
        argv += ["--cache-dir", "/dev/null"]  # nothing written into the app
    completed = await sandbox.run([*argv, "."], app_dir, limits=limits, cancel=cancel, warm=True)
    if missing_module(completed, "mypy"):
        finding = Finding(
            check="mypy",
            kind="not-run",
            message=f"the type check did not run: {python} has no mypy (install mypy>=1.11)",
            severity="warning",
            detail=process_detail(completed),
        )
        return CheckResult("mypy", [finding], {"ran": False, "errors": 0, **timing(completed)})
    findings, entries = parse(completed.stdout, app_dir)
    # 0: clean; 1: type errors, 2: a blocking error such as a syntax error (as JSON
    # lines); anything else, or no JSON line with a non-zero status: mypy itself failed
    usable = not completed.timed_out and (completed.returncode == 0 or entries > 0)
    if not usable:
        finding = Finding(
            check="mypy",
            kind="check-failed",
            message="mypy did not run: " + reason(completed),
            detail=process_detail(completed),
        )
        return CheckResult("mypy", [finding], {"ran": False, "errors": 1, **timing(completed)})
    findings = located(findings, trace)
    figures = {
        "ran": True,
        "errors": sum(f.blocking for f in findings),
        "files": len({f.file for f in findings}),
        **timing(completed),
    }
    return CheckResult("mypy", findings, figures)
