"""Phases 8 to 10 as a loop, seen from the run record: a failing check leads to a repair
attempt and a second pass; an attempt that makes things worse is rolled back; what no
strategy reaches fails the run, named; an untrusted workspace runs no generated code.

The checks here are stand-ins that read one file of the app, so the loop itself is what
is tested (the real checks have their own tests in tests/verify/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import Phase, PhaseOutcome, PipelineSettings, RunContext
from specloom.pipeline.phases import default_phases
from specloom.pipeline.records import RunRecord
from specloom.store.sql import SqlRunStore
from specloom.store.urls import open_store
from specloom.verify.findings import Finding, Span
from specloom.verify.repair import Repair
from specloom.verify.state import VerifyState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MAIN = "app/main.py"


class Generation(Phase):
    """Phase 6 stand-in: the reference holds `reference`, the staged app `staged`."""

    number, key, name = 6, "codegen", "code generation"

    def __init__(self, staged: dict[str, str], reference: dict[str, str]) -> None:
        self.staged, self.reference = staged, reference

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        for path, text in self.staged.items():
            ctx.staging.write(path, text)
        ctx.generated = dict(self.reference)
        ctx.app_dir = ctx.staging.root
        return PhaseOutcome("passed", f"{len(self.staged)} files")


class Deployment(Phase):
    number, key, name = 7, "deployment", "deployment"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        if not ctx.settings.verify.trusted:
            return PhaseOutcome("skipped", "the workspace is not trusted")
        assert ctx.app_dir is not None
        ctx.verify = VerifyState(app_dir=ctx.app_dir, reference=ctx.generated)
        return PhaseOutcome("passed", "deployed")


class Validation(Phase):
    """One finding per line of app/main.py that is not "ok" (two per "worse" line)."""

    number, key, name = 9, "validation", "validation"
    passes = 0

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        assert ctx.verify is not None
        Validation.passes += 1
        found: list[Finding] = []
        text = (ctx.verify.app_dir / MAIN).read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines()):
            for copy in range(2 if line == "worse" else 1 if line != "ok" else 0):
                found.append(
                    Finding(
                        check="tests", kind="test-failed", message=f"{line!r} #{copy}",
                        file=MAIN, range=Span.lines(number),
                    )
                )  # fmt: skip
        mine = ctx.verify.app_dir / "app" / "mine.py"
        if mine.exists():
            found.append(
                Finding(check="syntax", kind="syntax-error", message="bad", file="app/mine.py")
            )
        ctx.verify.report("tests", found)
        if found:
            return PhaseOutcome("failed", f"{len(found)} finding(s)")
        return PhaseOutcome("passed", "clean")


class Health(Phase):
    number, key, name = 10, "health", "health verification"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        return PhaseOutcome("passed", "every endpoint answered")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlRunStore]:
    opened = await open_store(None, tmp_path / "ws")
    yield opened
    await opened.close()


async def verify(
    store: SqlRunStore, tmp_path: Path, staged: str, reference: str, trusted: bool = True
) -> RunRecord:
    phases = default_phases()
    extra = {"app/mine.py": "def broken(:\n"} if "mine" in staged else {}
    phases[5] = Generation({MAIN: staged.replace("mine\n", ""), **extra}, {MAIN: reference})
    phases[6], phases[7], phases[8], phases[9] = Deployment(), Repair(), Validation(), Health()
    settings = PipelineSettings()
    settings.verify.trusted = trusted
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    spec = EXAMPLES / "todo.spec.md"
    Validation.passes = 0
    return await Orchestrator(store, phases, settings).run(spec, tmp_path / "out", workspace)


def status(run: RunRecord, number: int) -> str:
    phase = run.phase(number)
    assert phase is not None
    return phase.status


async def test_a_fault_is_repaired_in_a_second_pass_and_the_output_holds_the_fix(
    store: SqlRunStore, tmp_path: Path
) -> None:
    run = await verify(store, tmp_path, "ok\nbroken\nok\n", "ok\nok\nok\n")
    assert Validation.passes == 2
    assert [status(run, n) for n in (7, 8, 9, 10)] == ["passed"] * 4
    assert run.status == "passed"  # repaired, verified, every phase there
    repair = run.phase(8)
    assert repair is not None
    attempts = repair.detail["attempts"]
    assert attempts[0]["strategies"] == {"restore-lines": [MAIN]}
    assert attempts[0]["files"] == {MAIN: {"added": 1, "removed": 1}}
    assert (tmp_path / "out" / MAIN).read_text(encoding="utf-8") == "ok\nok\nok\n"
    audit = [entry.action for entry in await store.list_audit(run.id)]
    assert "repair.attempt" in audit
    assert "repair.result" in audit


async def test_an_attempt_that_makes_things_worse_is_rolled_back(
    store: SqlRunStore, tmp_path: Path
) -> None:
    run = await verify(store, tmp_path, "broken\n", "worse\n")
    assert Validation.passes == 3  # before, after the attempt, after the rollback
    assert run.status == "failed"
    assert "phase 9 (validation) failed: 1 finding(s)" in run.error
    audit = await store.list_audit(run.id)
    rolled = [entry for entry in audit if entry.action == "repair.rolled_back"]
    assert rolled
    assert rolled[0].detail["effect"] == "worse (1 -> 2): rolled back"
    # the output is not committed by a failed run; the staged app holds the rollback
    assert not (tmp_path / "out" / MAIN).exists()


async def test_what_no_strategy_reaches_fails_the_run_and_is_named(
    store: SqlRunStore, tmp_path: Path
) -> None:
    run = await verify(store, tmp_path, "ok\nmine\n", "ok\n")
    assert Validation.passes == 1
    assert status(run, 8) == "skipped"
    assert status(run, 9) == "failed"
    assert run.status == "failed"
    assert "1 finding(s)" in run.error


async def test_an_untrusted_workspace_runs_no_generated_code(
    store: SqlRunStore, tmp_path: Path
) -> None:
    run = await verify(store, tmp_path, "broken\n", "ok\n", trusted=False)
    assert Validation.passes == 0
    assert [status(run, n) for n in (7, 8, 9, 10)] == ["skipped"] * 4
    assert run.status == "incomplete"
    assert run.error.startswith("not verified: the workspace is not trusted")
    # generation itself is not code execution: the app is still written
    assert (tmp_path / "out" / MAIN).read_text(encoding="utf-8") == "broken\n"
