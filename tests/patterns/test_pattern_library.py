"""The pattern library on the embedded stores: what phase 11 keeps and phase 6 reuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from specloom.codegen.generator import UNSHARED, Generator
from specloom.patterns.bank import KEEP_PER_TASK, PatternLibrary
from specloom.patterns.model import pattern_id
from specloom.plan.dag import make_plan
from specloom.plan.model import Plan, Task
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def plan_of(name: str) -> tuple[Plan, Generator]:
    ir = compile_spec((EXAMPLES / f"{name}.spec.md").read_text(encoding="utf-8")).ir
    plan = make_plan(ir, name)[0]
    plan.spec_name = f"{name}.spec.md"
    generator = Generator(ir, plan, spec_name=plan.spec_name, workers=1)
    return plan, generator


def shared(plan: Plan) -> list[Task]:
    """The tasks whose code a pattern can hold (not the shell's)."""
    return [task for task in plan.tasks if task.kind not in UNSHARED]


async def learned(workspace: Path, name: str, run_id: str = "run1") -> tuple[Plan, dict]:
    plan, generator = plan_of(name)
    tree = generator.generate()
    library = await PatternLibrary.open(workspace)
    try:
        result = await library.learn(plan, generator.rendered, {}, run_id)
        assert result.stored == len(shared(plan))
        assert result.updated == 0
    finally:
        await library.close()
    return plan, tree


async def test_a_clean_run_is_learned_and_every_task_recalled_after_a_restart(
    tmp_path: Path,
) -> None:
    plan, tree = await learned(tmp_path, "library")
    assert (tmp_path / ".specloom" / "graph.json").is_file()
    library = await PatternLibrary.open(tmp_path)  # opened again: what was kept on disk
    try:
        assert await library.count() == len(shared(plan))
        recalled = await library.recall(plan.tasks)
        assert set(recalled) == {task.id for task in shared(plan)}
        again, generator = plan_of("library")
        generator.stored = {task_id: p.rendered() for task_id, p in recalled.items()}
        assert generator.generate() == tree  # reused code is the code, byte for byte
        assert set(generator.reused.values()) == {"library"}
        assert len(generator.reused) == len(shared(again))
        pattern = recalled[plan.tasks[0].id]
        assert (pattern.uses, pattern.successes, pattern.failures) == (1, 1, 0)
        assert pattern.run_id == "run1"
        assert pattern.spec_name == "library.spec.md"
    finally:
        await library.close()


async def test_learning_again_confirms_and_failures_stop_reuse(tmp_path: Path) -> None:
    plan, _tree = await learned(tmp_path, "todo")
    _, generator = plan_of("todo")
    generator.generate()
    library = await PatternLibrary.open(tmp_path)
    try:
        again = await library.learn(plan, generator.rendered, {}, "run2")
        assert (again.stored, again.updated) == (0, len(shared(plan)))
        first = shared(plan)[0]
        assert (await library.recall([first]))[first.id].successes == 2
        # two failing runs against the first task: as many failures as successes
        assert await library.failed(plan, [first.id]) == 1
        assert await library.failed(plan, [first.id, "no-such-task"]) == 1
        stored = await library.get(pattern_id(first, library.fingerprint))
        assert stored is not None
        assert (stored.successes, stored.failures) == (2, 2)
        assert not stored.reusable
        assert first.id not in await library.recall(plan.tasks)
        assert stored.reliability < 0.5
    finally:
        await library.close()


async def test_nearest_finds_patterns_of_the_same_kind_best_first(tmp_path: Path) -> None:
    await learned(tmp_path, "library")
    todo, _ = plan_of("todo")
    library = await PatternLibrary.open(tmp_path)
    try:
        for kind in ("model", "endpoint", "tests"):
            task = next(t for t in todo.tasks if t.kind == kind)
            found = await library.nearest(task, spec_name="todo.spec.md", limit=5)
            assert found, kind
            assert all(s.pattern.kind == kind for s in found)
            scores = [s.score for s in found]
            assert scores == sorted(scores, reverse=True)
            assert all(-1.0 <= s.similarity <= 1.0 for s in found)
        own = shared(todo)[0]
        ids = {s.pattern.id for s in await library.nearest(own, limit=20)}
        assert pattern_id(own, library.fingerprint) not in ids
    finally:
        await library.close()


async def test_a_task_keeps_its_most_recent_patterns_only(tmp_path: Path) -> None:
    plan, generator = plan_of("todo")
    generator.generate()
    task = shared(plan)[0]
    library = await PatternLibrary.open(tmp_path)
    try:
        for n in range(KEEP_PER_TASK + 2):
            edited: Task = task.model_copy(update={"signature_hash": f"{n:064x}"})
            one = Plan(spec_name=plan.spec_name, spec_hash=plan.spec_hash, tasks=[edited])
            assert (
                await library.learn(one, {task.id: generator.rendered[task.id]}, {}, f"r{n}")
            ).stored == 1
        assert await library.count() == KEEP_PER_TASK
        assert await library.backends.vectors.count(library.collection) == KEEP_PER_TASK
    finally:
        await library.close()


def test_a_pattern_belongs_to_one_generator_and_one_set_of_requirements() -> None:
    plan, _ = plan_of("todo")
    task = next(t for t in plan.tasks if t.requirement_ids)
    assert pattern_id(task, "a") != pattern_id(task, "b")
    other = task.model_copy(update={"requirement_ids": [*task.requirement_ids, "X99"]})
    assert pattern_id(task, "a") != pattern_id(other, "a")
    assert pattern_id(task, "a") == pattern_id(task.model_copy(), "a")


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_learning_can_be_turned_off(value: str) -> None:
    from specloom.patterns.bank import enabled

    assert not enabled({"SPECLOOM_LEARNING": value})
    assert enabled({})
