"""Check 4, tests: the generated pytest suite, with the app's interpreter and database.

`<python> -m pytest -q -p no:cacheprovider ... --junitxml=<report>` runs in the app's
directory with `DATABASE_URL` set and no plugin loaded from the environment
(`PYTEST_DISABLE_PLUGIN_AUTOLOAD`), forked from the interpreter's zygote when it has
one (`specloom.verify.warm`). The results come from the JUnit XML report only,
never from the text output: each `testcase` has `classname` (`tests.test_book`),
`name`, `time` and, as `-o junit_family=xunit1` asks, `file` and `line` (0-based); a
`failure`, `error` or `skipped` child says how it ended. A collection error is an
`error` test case named after the module. A suite that produced no report (it could not
start, or ran out of time) is a finding too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specloom.pipeline.cancel import CancelToken
from specloom.verify import sandbox
from specloom.verify.checks.common import (
    CheckResult,
    excerpt,
    located,
    process_detail,
    reason,
    relative,
)
from specloom.verify.findings import Finding, Span
from specloom.verify.sandbox import Limits
from specloom.verify.traceindex import Located, TraceIndex

# no cache written into the app; no collection of the whole heap at the end to find
# exceptions raised in `__del__` (pytest's unraisableexception plugin: 0.1 s, and what
# it finds are warnings, which this check does not read)
PYTEST = (
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:unraisableexception",
    "-o",
    "junit_family=xunit1",
)


@dataclass
class Case:
    """One test case of the JUnit report."""

    classname: str
    name: str
    file: str = ""
    line: int | None = None
    seconds: float = 0.0
    outcome: str = "passed"  # passed, failed, error, skipped
    message: str = ""
    text: str = ""

    @property
    def function(self) -> str:
        """The test function's name, without the parameters of a parametrized test."""
        return self.name.split("[", 1)[0]

    @property
    def path(self) -> str:
        """The test file, from the report, else from the dotted class name."""
        if self.file:
            return self.file
        module = self.classname or self.name
        parts = [p for p in module.split(".") if p]
        # `tests.test_book.TestBook`: drop the class parts (capitalised) at the end
        while len(parts) > 1 and parts[-1][:1].isupper():
            parts.pop()
        return "/".join(parts) + ".py" if parts else ""


@dataclass
class Report:
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(case.outcome == outcome for case in self.cases)


def read_report(path: Path) -> Report:
    """The test cases of a JUnit XML report (raises ValueError when it is unreadable)."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        raise ValueError(f"unreadable JUnit report: {error}") from error
    report = Report()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    for suite in suites:
        report.seconds += _float(suite.get("time"))
        for element in suite.iter("testcase"):
            case = Case(
                classname=element.get("classname", ""),
                name=element.get("name", ""),
                file=element.get("file", ""),
                line=_int(element.get("line")),
                seconds=_float(element.get("time")),
            )
            for outcome, tag in (("failed", "failure"), ("error", "error"), ("skipped", "skipped")):
                child = element.find(tag)
                if child is not None:
                    case.outcome = outcome
                    case.message = child.get("message", "")
                    case.text = child.text or ""
                    break
            report.cases.append(case)
    return report


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float(text: str | None) -> float:
    try:
        return float(text) if text is not None else 0.0
    except ValueError:
        return 0.0


def _requirement_key(requirement_id: str) -> str:
    """`Book.isbn.unique` -> `book_isbn_unique`, as test names spell requirement IDs."""
    return re.sub(r"[^0-9a-z]+", "_", requirement_id.lower()).strip("_")


def best_place(places: list[Located], test_name: str) -> Located | None:
    """The requirement a test names first (`test_f8_...` -> F8), else the first traced."""
    name = test_name.removeprefix("test_")
    named = [p for p in places if name.startswith(_requirement_key(p.requirement_id) + "_")]
    if named:
        return max(named, key=lambda p: len(p.requirement_id))
    return places[0] if places else None


def error_line(text: str) -> str:
    """The last `E   ...` line of a pytest traceback: the exception and its message."""
    for line in reversed(text.splitlines()):
        if line.startswith("E ") and line[1:].strip():
            return line[1:].strip()
    return ""


# `File "app/x.py", line 12` (a SyntaxError), `app/x.py:12: in <module>` (pytest's frames)
_FILE_LINE = re.compile(
    r'File "(?P<quoted>[^"]+)", line (?P<line>\d+)|^(?P<frame>[^\s:]+\.py):(?P<at>\d+):', re.M
)


def culprit_line(text: str, app_dir: Path) -> tuple[str, int] | None:
    """The last place of a traceback that is in the app: path and 0-based line."""
    for match in reversed(list(_FILE_LINE.finditer(text))):
        path = relative(match.group("quoted") or match.group("frame"), app_dir)
        if not Path(path).is_absolute() and (app_dir / path).is_file():
            return path, int(match.group("line") or match.group("at")) - 1
    return None


def case_finding(case: Case, trace: TraceIndex, app_dir: Path) -> Finding:
    """The finding of a failing, erroring or uncollectable test case."""
    path = relative(case.path, app_dir)
    collection = not case.classname and case.outcome == "error"
    places = [] if collection else trace.symbol(path, case.function)
    place = best_place(places, case.function)
    span: Span | None = None
    if place is not None:
        span = place.span
    elif case.line is not None:
        span = Span.lines(case.line)
    first = case.message.strip().splitlines()[0] if case.message.strip() else ""
    if collection or not first:
        first = error_line(case.text) or first
    culprit = culprit_line(case.text, app_dir)
    detail: dict[str, object] = {
        "test": case.name,
        "requirements": sorted({p.requirement_id for p in places}),
        "output": excerpt(case.text, 4000),
    }
    if culprit is not None:  # the last frame in the app: where it broke
        detail["culprit"] = {"file": culprit[0], "line": culprit[1]}
    if collection:
        kind, message = "collection-error", f"{path} could not be collected: {first}"
        if culprit is not None:  # the module itself, or what it imports
            path, span = culprit[0], Span.lines(culprit[1])
    elif case.outcome == "error":
        kind, message = "test-error", f"{case.function} errored: {first}"
    else:
        kind, message = "test-failed", f"{case.function} failed: {first}"
    return Finding(
        check="tests",
        kind=kind,
        message=message.rstrip(": "),
        file=path,
        range=span,
        requirement_id=place.requirement_id if place is not None else "",
        detail=detail,
    )


def parse(report: Report, trace: TraceIndex, app_dir: Path) -> list[Finding]:
    return [
        case_finding(case, trace, app_dir)
        for case in report.cases
        if case.outcome in ("failed", "error")
    ]


def figures_of(report: Report, seconds: float) -> dict[str, Any]:
    tests = len([case for case in report.cases if case.classname])  # not collection errors
    return {
        "tests": tests,
        "passed": report.count("passed"),
        "failed": report.count("failed"),
        "errors": report.count("error"),
        "skipped": report.count("skipped"),
        "seconds": round(seconds, 2),
    }


def memory_directory() -> str | None:
    """A tmpfs for scratch files (`/dev/shm` on Linux), or None for the default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


async def check_tests(
    app_dir: Path,
    python: str,
    database_url: str,
    *,
    paths: Sequence[str] = (),
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
    trace: TraceIndex | None = None,
) -> CheckResult:
    """Run the app's test suite (or only `paths`, relative to the app) and read its
    JUnit report."""
    trace = trace if trace is not None else TraceIndex.load(app_dir)
    scratch = Path(tempfile.mkdtemp(prefix="specloom-tests-", dir=memory_directory()))
    try:
        junit = scratch / "junit.xml"
        argv = [python, *PYTEST, f"--junitxml={junit}", *paths]
        # the suite alone, with no pytest plugin the interpreter happens to have (the
        # generated tests need none, and a plugin may slow it or change what it does)
        env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        if database_url.startswith("sqlite"):
            # the tests empty their tables before each test: a SQLite file of their own
            # (the app's keeps its data), in memory where the machine has a tmpfs (each
            # commit's fsync costs milliseconds on a disk)
            env["DATABASE_URL"] = f"sqlite:///{scratch / 'tests.db'}"
        elif database_url:
            env["DATABASE_URL"] = database_url
        completed = await sandbox.run(
            argv, app_dir, env=env, limits=limits, cancel=cancel, warm=True
        )
        try:
            report = read_report(junit) if not completed.timed_out else None
        except ValueError:
            report = None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if report is None:
        kind = "suite-timeout" if completed.timed_out else "suite-not-run"
        finding = Finding(
            check="tests",
            kind=kind,
            message="the test suite did not run: " + reason(completed),
            detail=process_detail(completed),
        )
        figures = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
        return CheckResult("tests", [finding], {**figures, "seconds": round(completed.seconds, 2)})
    findings = located(parse(report, trace, app_dir), trace)
    figures = figures_of(report, completed.seconds)
    if not report.cases:
        # pytest's 5: nothing collected
        findings.append(
            Finding(
                check="tests",
                kind="no-tests",
                message="the test suite has no tests",
                detail=process_detail(completed),
            )
        )
    elif completed.returncode not in (0, 1) and not findings:
        # interrupted, an internal error or a usage error, yet no failing test case
        findings.append(
            Finding(
                check="tests",
                kind="suite-not-run",
                message="the test suite stopped: " + reason(completed),
                detail=process_detail(completed),
            )
        )
    return CheckResult("tests", findings, figures)
