"""What every check shares: its result, paths relative to the app, and short excerpts of
a tool's output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specloom.verify.findings import Check, Finding
from specloom.verify.sandbox import Completed
from specloom.verify.traceindex import TraceIndex

# directories no check looks into: environments, caches, version control
SKIPPED_DIRECTORIES = frozenset(
    {"__pycache__", "node_modules", "venv", "env", "site-packages", "build", "dist"}
)


@dataclass
class CheckResult:
    """The findings of one check (located through the trace map) and its figures."""

    check: Check
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]


def located(findings: list[Finding], trace: TraceIndex) -> list[Finding]:
    """Each finding with the requirement of its place and that requirement's spec range."""
    return [trace.locate(finding) for finding in findings]


def relative(path: str, app_dir: Path) -> str:
    """`path` (absolute, or relative to the app) as a POSIX path relative to the app."""
    candidate = Path(path)
    if candidate.is_absolute():
        for base in (app_dir, app_dir.resolve()):
            try:
                return candidate.relative_to(base).as_posix()
            except ValueError:
                continue
        try:
            return candidate.resolve().relative_to(app_dir.resolve()).as_posix()
        except (ValueError, OSError):
            return candidate.as_posix()
    text = candidate.as_posix()
    return text[2:] if text.startswith("./") else text


def excerpt(text: str, limit: int = 2000) -> str:
    """The end of a tool's output (where the reason usually is), at most `limit` characters."""
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def process_detail(completed: Completed) -> dict[str, object]:
    """What a finding about a tool that did not run keeps of its process."""
    return {
        "argv": completed.argv,
        "returncode": completed.returncode,
        "timed_out": completed.timed_out,
        "stdout": excerpt(completed.stdout),
        "stderr": excerpt(completed.stderr),
    }


def last_json_line(text: str) -> Any:
    """The last line of `text` that is a JSON value (a program may print before it)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise ValueError("no JSON in the output")


def missing_module(completed: Completed, module: str) -> bool:
    """Whether `python -m module` failed because the interpreter does not have it."""
    return completed.returncode != 0 and f"No module named {module}" in completed.stderr


def reason(completed: Completed) -> str:
    """One line on why a tool gave no usable report."""
    if completed.timed_out:
        return completed.stderr
    lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {completed.returncode}, no report"


def timing(completed: Completed) -> dict[str, float]:
    return {"seconds": round(completed.seconds, 2)}
