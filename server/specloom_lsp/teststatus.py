"""The test status of each requirement after a run, for the code lenses above flows.

The generated tests of a requirement are those its trace map lists (`tests` of the
requirement in `specloom-trace.json`); the failing ones are the run's findings of the
`tests` check located in them. A run that did not run the suite (an untrusted
workspace, a plan) says why instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specloom.pipeline.records import RunRecord, ValidationRecord

VALIDATION = 9
FAILING_KINDS = ("tests:test-failed", "tests:test-error")


@dataclass
class TestStatus:
    """What one run says of the tests of each requirement."""

    run_id: str
    ran: bool
    reason: str = ""
    tests: dict[str, int] = field(default_factory=dict)
    """requirement -> its generated tests"""
    failing: dict[str, int] = field(default_factory=dict)
    """requirement -> those of its tests that failed"""

    def title(self, requirement_id: str) -> str | None:
        """The lens text for a requirement, or None when it has no generated test."""
        total = self.tests.get(requirement_id, 0)
        if not total:
            return None
        if not self.ran:
            return f"{total} tests, not run: {self.reason}"
        failing = self.failing.get(requirement_id, 0)
        if failing:
            return f"✗ {failing} of {total} tests fail"
        return f"✓ {total} tests pass"


def status_of(out_dir: Path, run: RunRecord, findings: list[ValidationRecord]) -> TestStatus:
    """The test status a run left, read from its output directory's trace map."""
    from specloom.verify.traceindex import TraceIndex

    trace = TraceIndex.load(out_dir)
    validation = run.phase(VALIDATION)
    ran = validation is not None and validation.status in ("passed", "failed")
    reason = ""
    if not ran:
        reason = (validation.message if validation and validation.message else run.error) or (
            "the suite did not run"
        )
    status = TestStatus(run_id=run.id, ran=ran, reason=reason)
    places: dict[str, list[tuple[str, int, int]]] = {}
    for requirement_id, entry in trace.requirements.items():
        tests = entry.get("tests", [])
        status.tests[requirement_id] = len(tests)
        places[requirement_id] = [
            (str(t["path"]), int(t["range"]["start"]["line"]), int(t["range"]["end"]["line"]))
            for t in tests
        ]
    failed: set[tuple[str, int]] = set()
    uncollected: set[str] = set()  # a module that did not import: all its tests fail
    for finding in findings:
        if finding.kind == "tests:collection-error" and finding.file:
            uncollected.add(finding.file)
        elif finding.kind in FAILING_KINDS and finding.file:
            line = int(((finding.range or {}).get("start") or {}).get("line", -1))
            failed.add((finding.file, line))
    for requirement_id, tests in places.items():
        count = sum(
            path in uncollected
            or any(path == file and start <= line < max(end, start + 1) for file, line in failed)
            for path, start, end in tests
        )
        if count:
            status.failing[requirement_id] = count
    return status
