"""Phase 9, validation: the app phase 7 deployed goes through five checks, all at once
(the test suite is the long one; the others finish while it runs):

1. `syntax`: every Python file compiles, with the app's interpreter;
2. `ruff`: lint, as the app's `pyproject.toml` configures it;
3. `mypy`: the type check, with the app's interpreter;
4. `tests`: the generated pytest suite, on the app's database;
5. `compliance`: the app's API against the IR, and every requirement traced to code.

Every finding is located through the trace map (the requirement it breaks and that
requirement's range in the spec), reported in `ctx.verify` check by check, and saved
in the run store. The phase passes only when no check has an error finding.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from specloom.pipeline.events import PhaseProgressed
from specloom.pipeline.phase import Phase, PhaseOutcome, RunContext
from specloom.pipeline.records import ValidationRecord
from specloom.verify import mypycache
from specloom.verify.checks.common import CheckResult
from specloom.verify.checks.compliance import check_compliance
from specloom.verify.checks.lint import check_ruff
from specloom.verify.checks.suite import check_tests
from specloom.verify.checks.syntax import check_syntax
from specloom.verify.checks.typecheck import check_mypy
from specloom.verify.findings import Finding
from specloom.verify.health import HealthChecker, Launched
from specloom.verify.state import VerifyState
from specloom.verify.traceindex import TraceIndex

if TYPE_CHECKING:
    from specloom.codegen.incremental import Affected

DETAIL_FINDINGS = 200  # findings kept in the phase record's detail (all go to the store)

# how the outcome message names the error findings of each kind
_NOUNS: dict[str, tuple[str, str]] = {
    "syntax-error": ("syntax error", "syntax errors"),
    "test-failed": ("failing test", "failing tests"),
    "test-error": ("erroring test", "erroring tests"),
    "collection-error": ("uncollectable test module", "uncollectable test modules"),
    "missing-endpoint": ("missing endpoint", "missing endpoints"),
    "missing-field": ("missing field", "missing fields"),
    "untraced-requirement": ("untraced requirement", "untraced requirements"),
}
# errors that say a check could not do its work
_STATEMENTS: dict[str, str] = {
    "check-failed": "{check} did not run",
    "suite-not-run": "the test suite did not run",
    "suite-timeout": "the test suite ran out of time",
    "no-tests": "the test suite has no tests",
    "openapi-failed": "no OpenAPI document",
    "missing-trace-map": "no trace map",
}
_CHECK_NOUNS: dict[str, tuple[str, str]] = {
    "ruff": ("lint error", "lint errors"),
    "mypy": ("type error", "type errors"),
}


def mypy_cache(ctx: RunContext) -> Path:
    """mypy's cache, kept in the workspace (never in the app) so that the libraries the
    app imports are analysed once, not on every validation; a new workspace's starts
    from the machine's seed (`specloom.verify.mypycache`)."""
    return ctx.workspace / ".specloom" / "cache" / "mypy"


class Validation(Phase):
    number, key, name = 9, "validation", "validation"

    def __init__(
        self, mypy_cache: Callable[[RunContext], Path] = mypy_cache, launch_app: bool = False
    ) -> None:
        self.mypy_cache = mypy_cache
        # start the app for the health check (phase 10) while the checks run
        self.launch_app = launch_app

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        state = ctx.verify
        if state is None:
            return PhaseOutcome("failed", "no app to validate: phase 7 did not run")
        if ctx.ir is None:
            return PhaseOutcome("failed", "no IR to validate against: phase 1 did not run")
        ctx.cancel.raise_if_cancelled()
        app_dir = state.app_dir
        python = state.python
        limits = dataclasses.replace(ctx.settings.verify.check_limits, pycache=state.pycache)
        trace = TraceIndex.load(app_dir)
        common: dict[str, Any] = {"limits": limits, "cancel": ctx.cancel, "trace": trace}
        cache_dir = self.mypy_cache(ctx)
        seeded = await asyncio.to_thread(mypycache.seed, cache_dir, python, app_dir)
        # return_exceptions: one check's failure (a cancellation) must not leave the
        # others' subprocesses unattended; each sees the cancel token and kills its own
        pending = [
            check_syntax(app_dir, python, **common),
            check_ruff(app_dir, **common),
            check_mypy(app_dir, python, cache_dir=cache_dir, **common),
            tests_of(ctx, app_dir, python, state.database_url, trace, common),
            check_compliance(app_dir, python, ctx.ir, state.database_url, **common),
        ]
        launching = self._launch(ctx, state)
        done: list[str] = []

        async def reported(check: Coroutine[Any, Any, CheckResult]) -> CheckResult:
            result = await check
            done.append(result.check)
            await ctx.bus.publish(
                PhaseProgressed(
                    run_id=ctx.run.id,
                    phase=self.number,
                    done=len(done),
                    total=len(pending),
                    message=f"{result.check}: {len(result.errors)} errors",
                    percent=ctx.percent(self.number, len(done) / len(pending)),
                )
            )
            return result

        try:
            results = await asyncio.gather(*map(reported, pending), return_exceptions=True)
        finally:
            await self._launched(state, launching)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        ctx.cancel.raise_if_cancelled()
        checks = [result for result in results if isinstance(result, CheckResult)]
        if any(result.check == "mypy" and result.figures.get("ran") for result in checks):
            await asyncio.to_thread(mypycache.keep, cache_dir, python, app_dir)
        findings: list[Finding] = []
        for result in checks:
            state.report(result.check, result.findings, **result.figures)
            findings += result.findings
        for finding in findings:
            await ctx.store.save_validation(ctx.run.id, record_of(finding))
        detail: dict[str, Any] = {
            "checks": {result.check: result.figures for result in checks},
            "mypy_cache_seeded": seeded,
            "errors": sum(f.blocking for f in findings),
            "warnings": sum(not f.blocking for f in findings),
            "findings": [f.model_dump(mode="json") for f in findings[:DETAIL_FINDINGS]],
        }
        if len(findings) > DETAIL_FINDINGS:
            detail["findings_omitted"] = len(findings) - DETAIL_FINDINGS
        if any(f.blocking for f in findings):
            if state.launched is not None:  # a repair comes next: those files will change
                launched, state.launched = state.launched, None
                await launched.stop()
            return PhaseOutcome("failed", summary(checks), detail)
        return PhaseOutcome("passed", summary(checks), detail)

    def _launch(self, ctx: RunContext, state: VerifyState) -> asyncio.Future[Launched] | None:
        """Start the app for phase 10 now, its start-up overlapping the checks: only on
        SQLite, where the tests have a database of their own (on PostgreSQL they share
        the run's, whose tables the app's start-up would create under them)."""
        if not self.launch_app or not state.database_url.startswith("sqlite"):
            return None
        if state.launched is not None:
            return None
        checker = HealthChecker(state, ctx.settings.verify, cancel=ctx.cancel)
        return asyncio.ensure_future(checker.launch())

    async def _launched(
        self, state: VerifyState, launching: asyncio.Future[Launched] | None
    ) -> None:
        """Keep the app started by `_launch` for phase 10; the run's cleanup stops it if
        phase 10 never takes it."""
        if launching is None:
            return
        try:
            launched = await launching
        except (OSError, asyncio.CancelledError):  # phase 10 starts it and reports why not
            return
        if state.launched is None:
            state.launched = launched

            async def stop() -> None:
                if state.launched is not None:
                    stopping, state.launched = state.launched, None
                    await stopping.stop()

            state.cleanups.append(stop)
        else:  # pragma: no cover - one launch per pass
            await launched.stop()


SHARED_TEST_FILES = ("tests/conftest.py", "tests/factories.py")


def selected_tests(affected: Affected | None, trace: TraceIndex) -> list[str] | None:
    """The test modules an incremental generation must run again (None: all of them):
    those that changed, and those that test an affected requirement. A change to what
    every test shares (fixtures, factories) or a removed file means all."""
    if affected is None or affected.removed:
        return None
    if any(path in affected.files for path in SHARED_TEST_FILES):
        return None
    selected = {
        path
        for path in affected.files
        if path.startswith("tests/") and PurePosixPath(path).name.startswith("test_")
    }
    for requirement in affected.requirements:
        entry = trace.requirements.get(requirement, {})
        selected.update(str(place["path"]) for place in entry.get("tests", []))
    return sorted(selected)


async def tests_of(
    ctx: RunContext,
    app_dir: Path,
    python: str,
    database_url: str,
    trace: TraceIndex,
    common: dict[str, Any],
) -> CheckResult:
    """The suite check: the whole suite, or what an incremental generation affected."""
    paths = selected_tests(ctx.affected, trace)
    if paths is None:
        return await check_tests(app_dir, python, database_url, **common)
    if not paths:
        figures = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
        return CheckResult("tests", [], {**figures, "selected": [], "seconds": 0.0})
    result = await check_tests(app_dir, python, database_url, paths=paths, **common)
    result.figures["selected"] = paths
    return result


def record_of(finding: Finding) -> ValidationRecord:
    """What the run store keeps of a finding: `check:kind`, its message, file and range,
    the requirement and its range in the spec."""
    return finding.record()


def _plural(count: int, nouns: tuple[str, str]) -> str:
    if not nouns[1]:  # a statement
        return nouns[0]
    return f"{count} {nouns[0] if count == 1 else nouns[1]}"


def summary(checks: list[CheckResult]) -> str:
    """`2 failing tests, 1 missing endpoint; compliance 98.7%`, or what passed."""
    counts: dict[tuple[str, str], int] = {}
    for result in checks:
        for finding in result.errors:
            statement = _STATEMENTS.get(finding.kind)
            if statement is not None:  # said once, without a count
                counts[(statement.format(check=finding.check), "")] = 0
                continue
            nouns = _CHECK_NOUNS.get(finding.check) or _NOUNS.get(finding.kind)
            if nouns is None:
                nouns = (f"{finding.check} {finding.kind}", f"{finding.check} {finding.kind}")
            counts[nouns] = counts.get(nouns, 0) + 1
    by_check = {result.check: result for result in checks}
    compliance = by_check.get("compliance")
    tail = f"compliance {compliance.figures.get('percent', 0):g}%" if compliance else ""
    if counts:
        problems = ", ".join(_plural(count, nouns) for nouns, count in counts.items())
        return f"{problems}; {tail}" if tail else problems
    parts = []
    tests = by_check.get("tests")
    if tests is not None and "selected" in tests.figures:
        selected = len(tests.figures["selected"])
        passed = tests.figures.get("passed", 0)
        parts.append(
            f"{passed} tests of {selected} affected modules passed"
            if selected
            else "no test affected"
        )
    elif tests is not None:
        parts.append(f"{tests.figures.get('passed', 0)} tests passed")
    syntax = by_check.get("syntax")
    if syntax is not None:
        parts.append(f"{syntax.figures.get('files', 0)} files compiled")
    mypy = by_check.get("mypy")
    parts.append(
        "lint clean" if mypy is None or not mypy.figures.get("ran") else "lint and types clean"
    )
    warnings = sum(len(result.findings) for result in checks)
    if warnings:
        parts.append(_plural(warnings, ("warning", "warnings")))
    return ", ".join(parts) + (f"; {tail}" if tail else "")
