"""Phase 5: the dependency graph, its cycles and parallel levels, and `make_plan`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mutual_spec import MUTUAL
from specloom.ir.application import ApplicationIR
from specloom.plan.atomizer import atomize
from specloom.plan.dag import assemble_plan, build_graph, find_cycles, levels, make_plan
from specloom.plan.model import AtomicSpec, Plan, ProducedFile, SemanticSignature, Task
from specloom.plan.planner import plan_tasks
from specloom.plan.render import plan_json

CompileOk = Callable[[str], ApplicationIR]
ROOT = Path(__file__).resolve().parents[2]


THREE = """# Three

## Entities

### Author
- name: string, required
- favourite: Book, optional
- fans: list of Book

### Book
- title: string, required
- author: Author, optional
- pal: Shelf, optional
- admirers: list of Author
- shelves: list of Shelf

### Shelf
- label: string, required
- book: Book, optional
- mates: list of Book

## Endpoints
- A1. CRUD /authors
- B1. CRUD /books
- S1. CRUD /shelves
"""

SELF_COLLECTION = """# Tree

## Entities

### Category
- name: string, required
- parent: Category, optional
- children: list of Category

## Endpoints
- C1. CRUD /categories
"""


def task(task_id: str, produces: list[str], needs: list[str]) -> Task:
    kind, _, subject = task_id.partition(":")
    return Task(
        id=task_id,
        kind=kind,  # type: ignore[arg-type]
        title=task_id,
        subject=subject,
        signature=SemanticSignature(purpose=task_id),
        signature_hash="0" * 64,
        atomic=AtomicSpec(
            produces=[ProducedFile(path=f"{subject}.py", symbols=produces)], needs=needs
        ),
    )


def assert_levels_respect_edges(plan: Plan) -> None:
    level_of = {task_id: n for n, level in enumerate(plan.levels) for task_id in level}
    for dependant, dependency in plan.edges:
        if dependant in level_of:
            assert dependency in level_of, (dependant, dependency)
            assert level_of[dependency] < level_of[dependant], (dependant, dependency)
    for level in plan.levels:
        assert level == sorted(level)


# --- the library plan --------------------------------------------------------------------


@pytest.fixture(scope="module")
def library_plan(library: ApplicationIR) -> Plan:
    plan, diagnostics = make_plan(library, "abc123")
    assert diagnostics == []
    return plan


def test_borrowing_depends_on_its_schemas_repository_and_flow(library_plan: Plan) -> None:
    borrow = library_plan.task("endpoint:F8")
    assert borrow is not None
    assert {"schemas:Loan", "repository:Loan", "flow:F8", "app:database"} <= set(borrow.depends_on)
    flow = library_plan.task("flow:F8")
    assert flow is not None
    assert {"repository:Loan", "repository:Book", "repository:Member"} <= set(flow.depends_on)
    assert {"rule:R1", "rule:R2", "app:errors"} <= set(flow.depends_on)


def test_the_plan_carries_the_spec_and_its_edges(
    library: ApplicationIR, library_plan: Plan
) -> None:
    assert library_plan.spec_name == library.name == "Library Lending"
    assert library_plan.spec_hash == "abc123"
    assert library_plan.ir_version == "1"
    assert library_plan.cycles == []
    assert ("endpoint:F8", "flow:F8") in library_plan.edges
    assert library_plan.edges == sorted(library_plan.edges)
    for item in library_plan.tasks:
        assert item.depends_on == sorted(d for t, d in library_plan.edges if t == item.id)


def test_models_come_right_after_the_database(library_plan: Plan) -> None:
    assert "app:database" in library_plan.levels[0]
    for name in ("Book", "Member", "Loan"):
        model = library_plan.task(f"model:{name}")
        assert model is not None
        assert model.depends_on == ["app:database"]
        assert model.level == 1


def test_level_zero_tasks_need_nothing(library_plan: Plan) -> None:
    for task_id in library_plan.levels[0]:
        found = library_plan.task(task_id)
        assert found is not None
        assert found.depends_on == []


def test_every_example_plans_without_a_cycle_and_levels_every_task(
    examples: dict[str, ApplicationIR],
) -> None:
    for name, ir in examples.items():
        plan, diagnostics = make_plan(ir, name)
        assert diagnostics == [], name
        assert plan.cycles == [], name
        levelled = [task_id for level in plan.levels for task_id in level]
        assert sorted(levelled) == sorted(t.id for t in plan.tasks), name
        for item in plan.tasks:
            assert item.level is not None
            assert item.id in plan.levels[item.level]
        assert_levels_respect_edges(plan)


def test_a_task_sits_one_level_after_its_latest_dependency(library_plan: Plan) -> None:
    level_of = {t.id: t.level for t in library_plan.tasks}
    for item in library_plan.tasks:
        latest = max((level_of[d] or 0 for d in item.depends_on), default=-1)
        assert item.level == latest + 1, item.id


def test_a_self_collection_is_no_cycle(compile_ok: CompileOk) -> None:
    plan, diagnostics = make_plan(compile_ok(SELF_COLLECTION), "")
    assert diagnostics == []
    assert plan.cycles == []


# --- cycles -------------------------------------------------------------------------------


def test_mutual_collections_are_reported_as_a_cycle(compile_ok: CompileOk) -> None:
    ir = compile_ok(MUTUAL)
    plan, diagnostics = make_plan(ir, "")
    assert plan.cycles == [["schemas:Author", "schemas:Book"]]
    [diagnostic] = diagnostics
    assert diagnostic.code == "SL701"
    assert diagnostic.severity == "error"
    assert "schemas:Author" in diagnostic.message
    assert "schemas:Book" in diagnostic.message
    assert "Author.fans" in diagnostic.message
    assert "Book.admirers" in diagnostic.message
    assert diagnostic.range == ir.domain.entities[0].range


def test_tasks_on_or_after_a_cycle_get_no_level(compile_ok: CompileOk) -> None:
    plan, _ = make_plan(compile_ok(MUTUAL), "")
    unlevelled = {t.id for t in plan.tasks if t.level is None}
    assert {"schemas:Author", "schemas:Book", "endpoint:A1.get", "app:main"} <= unlevelled
    assert {"model:Author", "model:Book", "repository:Book", "app:database"}.isdisjoint(unlevelled)
    assert_levels_respect_edges(plan)
    levelled = {task_id for level in plan.levels for task_id in level}
    assert levelled == {t.id for t in plan.tasks} - unlevelled


def test_find_cycles_names_every_task_on_each_cycle() -> None:
    graph = build_graph(
        [
            task("flow:a", ["a"], ["b"]),
            task("flow:b", ["b"], ["c"]),
            task("flow:c", ["c"], ["a"]),
            task("rule:x", ["x"], ["y"]),
            task("rule:y", ["y"], ["x"]),
            task("model:free", ["free"], []),
        ]
    )
    assert find_cycles(graph) == [["flow:a", "flow:b", "flow:c"], ["rule:x", "rule:y"]]
    assert levels(graph) == [["model:free"]]


# --- the graph ---------------------------------------------------------------------------


def test_edges_go_from_a_task_to_each_producer_of_what_it_needs() -> None:
    graph = build_graph(
        [
            task("endpoint:a", ["router", "a"], []),
            task("endpoint:b", ["router", "b"], []),
            task("app:main", ["app"], ["router"]),
            task("model:self", ["self"], ["self"]),
        ]
    )
    assert sorted(graph.edges()) == [("app:main", "endpoint:a"), ("app:main", "endpoint:b")]
    assert levels(graph) == [["endpoint:a", "endpoint:b", "model:self"], ["app:main"]]
    assert graph.graph["unknown_needs"] == []


def test_an_unknown_need_is_reported() -> None:
    graph = build_graph([task("endpoint:a", ["a"], ["nobody.makes.this"])])
    assert graph.graph["unknown_needs"] == [("endpoint:a", "nobody.makes.this")]


def test_make_plan_reports_unknown_needs_as_sl702(shop: ApplicationIR) -> None:
    broken = shop.model_copy(deep=True)
    broken.domain.entities = [e for e in broken.domain.entities if e.name != "OrderLine"]
    plan, diagnostics = make_plan(broken, "")
    codes = {d.code for d in diagnostics}
    assert codes == {"SL702"}
    messages = " ".join(d.message for d in diagnostics)
    assert "schemas:Order needs app.schemas.order_line.OrderLineRead" in messages
    assert_levels_respect_edges(plan)


# --- determinism --------------------------------------------------------------------------


def test_two_runs_give_byte_identical_plans(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    first = plan_json(make_plan(library, "h")[0])
    second = plan_json(make_plan(compile_ok(library_text), "h")[0])
    assert first == second


PLAN_IN_A_SUBPROCESS = """
import sys
from specloom.plan.dag import make_plan
from specloom.plan.render import plan_json
from specloom.spec.compiler import compile_spec
ir = compile_spec(open(sys.argv[1], encoding="utf-8").read()).ir
sys.stdout.write(plan_json(make_plan(ir, "h")[0]))
"""


def test_another_process_gives_the_same_plan_json(library: ApplicationIR) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PLAN_IN_A_SUBPROCESS, str(ROOT / "examples" / "library.spec.md")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "987"},
        check=True,
        timeout=120,
    )
    assert result.stdout == plan_json(make_plan(library, "h")[0])


# --- property: any subset of entities plans without crashing ----------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_removing_entities_never_breaks_planning(
    examples: dict[str, ApplicationIR], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(examples)))
    ir = examples[name].model_copy(deep=True)
    names = [entity.name for entity in ir.domain.entities]
    removed = data.draw(st.sets(st.sampled_from(names)))
    ir.domain.entities = [e for e in ir.domain.entities if e.name not in removed]
    plan, diagnostics = make_plan(ir, "")
    assert {d.code for d in diagnostics} <= {"SL701", "SL702"}
    if not removed:
        assert diagnostics == []
    assert_levels_respect_edges(plan)
    assert len({t.id for t in plan.tasks}) == len(plan.tasks)
    for entity in ir.domain.entities:
        assert plan.task(f"model:{entity.name}") is not None
    for gone in removed:
        assert plan.task(f"model:{gone}") is None


def test_assemble_plan_is_phase_five_of_make_plan(library: ApplicationIR) -> None:
    tasks = atomize(library, plan_tasks(library))
    assert assemble_plan(library, tasks, "h") == make_plan(library, "h")


def test_a_knot_of_cycles_names_every_task_in_it() -> None:
    graph = build_graph(
        [
            task("schemas:A", ["A"], ["B"]),
            task("schemas:B", ["B"], ["A", "C"]),
            task("schemas:C", ["C"], ["B"]),
        ]
    )
    assert find_cycles(graph) == [["schemas:A", "schemas:B"], ["schemas:B", "schemas:C"]]
    assert find_cycles(graph, per_knot=1) == [["schemas:A", "schemas:B"]]


def test_three_entities_with_mutual_collections_give_one_diagnostic_per_cycle(
    compile_ok: CompileOk,
) -> None:
    plan, diagnostics = make_plan(compile_ok(THREE), "")
    assert plan.cycles == [["schemas:Author", "schemas:Book"], ["schemas:Book", "schemas:Shelf"]]
    assert [d.code for d in diagnostics] == ["SL701", "SL701"]
