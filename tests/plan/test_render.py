"""plan.md (Mermaid graph and task table) and plan.json, written atomically."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from mutual_spec import MUTUAL
from specloom.ir.application import ApplicationIR
from specloom.plan.dag import make_plan
from specloom.plan.model import Plan
from specloom.plan.render import node_ids, plan_json, plan_markdown, write_plan

CompileOk = Callable[[str], ApplicationIR]


@pytest.fixture(scope="module")
def plan(library: ApplicationIR) -> Plan:
    return make_plan(library, "0123456789abcdef0123")[0]


def mermaid_block(markdown: str) -> str:
    match = re.search(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL)
    assert match is not None, "no mermaid block"
    return match.group(1)


def table_rows(markdown: str) -> list[list[str]]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def test_the_page_has_a_title_a_mermaid_graph_and_a_table(plan: Plan) -> None:
    markdown = plan_markdown(plan)
    assert markdown.startswith("# Plan: Library Lending\n")
    assert "`0123456789ab`" in markdown
    graph = mermaid_block(markdown)
    assert graph.startswith("graph TD\n")
    for task in plan.tasks:
        assert f'["{task.id}"]' in graph, task.id
    assert "| level | task | kind | title | requirements | signature |" in markdown


def test_the_graph_has_a_subgraph_per_level_and_edges_from_dependency_to_dependant(
    plan: Plan,
) -> None:
    graph = mermaid_block(plan_markdown(plan))
    for n in range(len(plan.levels)):
        assert f'subgraph L{n}["Level {n}"]' in graph
    ids = node_ids(plan)
    assert f"{ids['flow:F8']} --> {ids['endpoint:F8']}" in graph
    assert f"{ids['endpoint:F8']} --> {ids['flow:F8']}" not in graph
    assert graph.count(" --> ") == len(plan.edges)
    assert f"class {ids['model:Book']},{ids['model:Member']},{ids['model:Loan']} model" in graph


def test_node_ids_are_safe_and_unique(plan: Plan, shop: ApplicationIR) -> None:
    for some_plan in (plan, make_plan(shop, "")[0]):
        ids = node_ids(some_plan)
        assert len(set(ids.values())) == len(ids)
        assert all(re.fullmatch(r"t_[A-Za-z0-9_]+", node) for node in ids.values())
        assert ids.get("endpoint:F1.create", "t_endpoint_F1_create") == "t_endpoint_F1_create"


def test_clashing_node_ids_get_a_suffix(plan: Plan) -> None:
    first, second = plan.tasks[0], plan.tasks[0].model_copy(update={"id": "model-Book"})
    clash = plan.model_copy(
        update={"tasks": [first.model_copy(update={"id": "model:Book"}), second]}
    )
    assert node_ids(clash) == {"model:Book": "t_model_Book", "model-Book": "t_model_Book_2"}


def test_labels_with_quotes_are_escaped(plan: Plan) -> None:
    quoted = plan.tasks[0].model_copy(update={"id": 'say "hi"', "level": 0})
    odd = plan.model_copy(update={"tasks": [quoted], "levels": [['say "hi"']], "edges": []})
    assert '["say #quot;hi#quot;"]' in mermaid_block(plan_markdown(odd))


def test_the_table_lists_every_task_by_level(plan: Plan) -> None:
    rows = table_rows(plan_markdown(plan))
    assert len(rows) == len(plan.tasks)
    levels = [int(row[0]) for row in rows]
    assert levels == sorted(levels)
    borrow = next(row for row in rows if row[1] == "`endpoint:F8`")
    task = plan.task("endpoint:F8")
    assert task is not None
    assert borrow == [
        str(task.level),
        "`endpoint:F8`",
        "endpoint",
        "F8 POST /loans",
        "F8",
        f"`{task.signature_hash[:12]}`",
    ]


def test_pipes_in_cells_are_escaped(plan: Plan) -> None:
    task = plan.tasks[0].model_copy(update={"title": "a | b"})
    markdown = plan_markdown(plan.model_copy(update={"tasks": [task, *plan.tasks[1:]]}))
    assert "a \\| b" in markdown


def test_a_plan_with_cycles_says_so(compile_ok: CompileOk) -> None:
    markdown = plan_markdown(make_plan(compile_ok(MUTUAL), "")[0])
    assert "Dependency cycles" in markdown
    assert "schemas:Author -> schemas:Book -> schemas:Author" in markdown
    assert 'subgraph unlevelled["Not levelled: on or after a cycle"]' in markdown
    assert "| - | `schemas:Author` |" in markdown


def test_plan_json_is_sorted_indented_and_round_trips(plan: Plan) -> None:
    text = plan_json(plan)
    assert text.endswith("}\n")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert Plan.model_validate_json(text) == plan


def test_write_plan_writes_both_files(plan: Plan, tmp_path: Path) -> None:
    md_path, json_path = write_plan(plan, tmp_path / "out" / "plan")
    assert md_path == tmp_path / "out" / "plan" / "plan.md"
    assert json_path.name == "plan.json"
    assert md_path.read_text(encoding="utf-8") == plan_markdown(plan)
    assert json_path.read_bytes() == plan_json(plan).encode("utf-8")
    assert sorted(p.name for p in md_path.parent.iterdir()) == ["plan.json", "plan.md"]


def test_write_plan_twice_gives_identical_bytes(plan: Plan, tmp_path: Path) -> None:
    _, json_path = write_plan(plan, tmp_path)
    first = json_path.read_bytes()
    write_plan(plan, tmp_path)
    assert json_path.read_bytes() == first


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plan.md").write_text("old", encoding="utf-8")

    def refuse(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_plan(plan, tmp_path)
    assert (tmp_path / "plan.md").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.md"]


def test_written_files_are_readable_by_everyone_and_keep_their_mode(
    plan: Plan, tmp_path: Path
) -> None:
    md_path, json_path = write_plan(plan, tmp_path)
    assert json_path.stat().st_mode & 0o777 == 0o644
    md_path.chmod(0o640)
    write_plan(plan, tmp_path)
    assert md_path.stat().st_mode & 0o777 == 0o640
