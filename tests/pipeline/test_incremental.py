"""Incremental regeneration: after a run that verified clean, a spec edit regenerates
and verifies only what it touched (changed signatures and the tasks depending on
them); an output directory edited since then, or a first run, verifies everything.

The real phase 6 runs here; phases 7, 9 and 10 are stand-ins that pass and record
what the run asked them to verify (the real checks have their own tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest
from specloom.codegen.incremental import Affected, Baseline, affected
from specloom.codegen.phase import CodeGeneration
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import Phase, PhaseOutcome, PipelineSettings, RunContext
from specloom.pipeline.phases import default_phases
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec
from specloom.store.sql import SqlRunStore
from specloom.store.urls import open_store
from specloom.verify.settings import VerifySettings
from specloom.verify.state import VerifyState
from specloom.verify.traceindex import TraceIndex
from specloom.verify.validation import selected_tests

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIBRARY = (EXAMPLES / "library.spec.md").read_text(encoding="utf-8")
TITLE = "- title: string, required, max length 200"
LONGER_TITLE = "- title: string, required, max length 250"
MEMBER = "- full_name: string, required, max length 120"
LONGER_MEMBER = "- full_name: string, required, max length 150"


def plan_of(text: str) -> tuple[object, dict[str, str]]:
    from specloom.codegen.generator import Generator

    ir = compile_spec(text, "library.spec.md").ir
    plan, _ = make_plan(ir, "test")
    generator = Generator(ir, plan, spec_name="library.spec.md")
    for task in plan.tasks:
        generator.perform(task)
    return plan, generator.finish()


@pytest.fixture(scope="module")
def library() -> tuple[object, dict[str, str]]:
    return plan_of(LIBRARY)


def test_an_entity_field_edit_affects_its_tasks_and_those_depending_on_them(
    library: tuple[object, dict[str, str]],
) -> None:
    plan, tree = library
    baseline = Baseline.of(plan, tree)  # type: ignore[arg-type]
    new_plan, new_tree = plan_of(LIBRARY.replace(MEMBER, LONGER_MEMBER))
    found = affected(new_plan, new_tree, baseline)  # type: ignore[arg-type]
    assert {"model:Member", "schemas:Member", "tests:Member"} <= found.tasks
    assert "model:Book" not in found.tasks  # Book does not depend on Member
    assert found.tasks < {task.id for task in new_plan.tasks}  # type: ignore[attr-defined]
    # only the files whose text changed are written again
    assert found.files == {p for p, text in new_tree.items() if tree[p] != text}
    assert "app/schemas/member.py" in found.files
    assert "tests/test_book.py" not in found.files
    assert not found.removed
    unchanged = affected(plan, tree, baseline)  # type: ignore[arg-type]
    assert not unchanged.tasks
    assert not unchanged.files


def test_selected_tests_are_the_changed_modules_and_those_of_affected_requirements() -> None:
    trace = TraceIndex.of(
        {
            "requirements": {
                "E2": {"tests": [{"path": "tests/test_member.py", "range": _span()}]},
                "F8": {"tests": [{"path": "tests/test_f8.py", "range": _span()}]},
            }
        }
    )

    def of(
        files: set[str], requirements: set[str], removed: frozenset[str] = frozenset()
    ) -> Affected:
        return Affected(
            frozenset(), frozenset(requirements), frozenset(files), frozenset(removed), 1
        )

    assert selected_tests(None, trace) is None
    assert selected_tests(of({"app/models.py", "tests/test_f4.py"}, {"E2"}), trace) == [
        "tests/test_f4.py",
        "tests/test_member.py",
    ]
    assert selected_tests(of({"README.md"}, set()), trace) == []
    assert selected_tests(of({"tests/factories.py"}, {"E2"}), trace) is None
    assert selected_tests(of(set(), set(), frozenset({"app/old.py"})), trace) is None


def _span() -> dict[str, dict[str, int]]:
    return {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}


class Verified(Phase):
    """Phases 7, 9 and 10 stand-ins: pass, and note what was affected."""

    seen: ClassVar[list[Affected | None]] = []

    def __init__(self, number: int, key: str) -> None:
        self.number, self.key, self.name = number, key, key

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        if self.number == 7:
            assert ctx.app_dir is not None
            ctx.verify = VerifyState(app_dir=ctx.app_dir, reference=ctx.generated)
        if self.number == 9:
            Verified.seen.append(ctx.affected)
        return PhaseOutcome("passed", "ok")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlRunStore]:
    store = await open_store(None, tmp_path)
    yield store
    await store.close()


async def test_a_second_run_verifies_only_what_the_edit_touched(
    store: SqlRunStore, tmp_path: Path
) -> None:
    spec, out = tmp_path / "library.spec.md", tmp_path / "library-app"
    spec.write_text(LIBRARY, encoding="utf-8")
    codegen = CodeGeneration()
    phases = [
        p if p.number not in (7, 9, 10) else Verified(p.number, p.key)
        for p in default_phases(codegen)
        if p.number != 8
    ]
    settings = PipelineSettings(verify=VerifySettings(trusted=True))
    Verified.seen.clear()

    async def run() -> str:
        record = await Orchestrator(store, phases=phases, settings=settings).run(
            spec, out, tmp_path
        )
        phase = record.phase(6)
        assert phase is not None
        return phase.message

    first = await run()
    assert Verified.seen == [None]
    assert "incremental" not in first
    book = (out / "tests" / "test_book.py").stat()

    spec.write_text(LIBRARY.replace(MEMBER, LONGER_MEMBER), encoding="utf-8")
    second = await run()
    found = Verified.seen[-1]
    assert found is not None
    assert "model:Member" in found.tasks
    assert "incremental:" in second
    assert (out / "tests" / "test_book.py").stat().st_mtime_ns == book.st_mtime_ns

    # an output file edited by hand: nothing is known, everything is verified
    schemas = out / "app" / "schemas" / "book.py"
    schemas.write_text(schemas.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    spec.write_text(LIBRARY.replace(TITLE, LONGER_TITLE), encoding="utf-8")
    third = await run()
    assert Verified.seen[-1] is None
    assert "all is verified" in third
