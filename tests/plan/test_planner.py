"""Phase 3: the tasks of a spec, their requirement IDs and semantic signatures.

The signature hash is stable across runs and processes, unchanged by edits elsewhere
in the spec or by lines moving, and changed when the content it depends on changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from specloom.ir.application import ApplicationIR
from specloom.plan.model import Task
from specloom.plan.planner import plan_tasks
from specloom.plan.signature import canonical_json, constraint, content, without_ranges

ROOT = Path(__file__).resolve().parents[2]
CompileOk = Callable[[str], ApplicationIR]


def ids_by_kind(tasks: list[Task]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for task in tasks:
        found[task.kind].add(task.id)
    return found


def hashes(ir: ApplicationIR) -> dict[str, str]:
    return {task.id: task.signature_hash for task in plan_tasks(ir)}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {
        task_id
        for task_id in before.keys() | after.keys()
        if before.get(task_id) != after.get(task_id)
    }


def by_id(tasks: list[Task]) -> dict[str, Task]:
    return {task.id: task for task in tasks}


# --- which tasks --------------------------------------------------------------------


def test_the_library_spec_gives_one_task_per_unit_a_developer_would_name(
    library: ApplicationIR,
) -> None:
    kinds = ids_by_kind(plan_tasks(library))
    entities = ("Book", "Member", "Loan")
    assert kinds["model"] == {f"model:{name}" for name in entities}
    assert kinds["schemas"] == {f"schemas:{name}" for name in entities}
    assert kinds["repository"] == {f"repository:{name}" for name in entities}
    assert kinds["endpoint"] == {f"endpoint:F{n}" for n in range(1, 11)}
    assert kinds["flow"] == {"flow:F4", "flow:F7", "flow:F8", "flow:F9"}
    assert kinds["rule"] == {"rule:R1", "rule:R2"}
    assert kinds["tests"] == {
        "tests:Book",
        "tests:Member",
        "tests:Loan",
        "tests:F4",
        "tests:F7",
        "tests:F8",
        "tests:F9",
        "tests:rules",
    }
    assert kinds["app"] == {"app:database", "app:errors", "app:main"}
    assert kinds["infra"] == {
        "infra:requirements",
        "infra:dockerfile",
        "infra:compose",
        "infra:readme",
        "infra:conftest",
    }
    assert set(kinds) == {
        "model",
        "schemas",
        "repository",
        "endpoint",
        "flow",
        "rule",
        "tests",
        "app",
        "infra",
    }


def test_crud_expansions_are_separate_endpoint_tasks(shop: ApplicationIR) -> None:
    tasks = by_id(plan_tasks(shop))
    for part in ("create", "list", "get", "update", "delete"):
        task = tasks[f"endpoint:F1.{part}"]
        assert task.subject == f"F1.{part}"
        assert task.requirement_ids == ["F1", f"F1.{part}"]
    assert "endpoint:F1" not in tasks


def test_passes_run_entities_then_api_and_behaviour_then_tests_then_shell(
    library: ApplicationIR,
) -> None:
    order = {"model": 0, "schemas": 0, "repository": 0, "endpoint": 1, "flow": 1, "rule": 1}
    order |= {"tests": 2, "app": 3, "infra": 3}
    passes = [order[task.kind] for task in plan_tasks(library)]
    assert passes == sorted(passes)


def test_a_spec_without_rules_has_no_rule_tests(examples: dict[str, ApplicationIR]) -> None:
    tasks = by_id(plan_tasks(examples["todo"]))
    assert not [task_id for task_id in tasks if task_id.startswith("rule:")]
    assert "tests:rules" not in tasks


def test_task_ids_are_unique_in_every_example(examples: dict[str, ApplicationIR]) -> None:
    for name, ir in examples.items():
        ids = [task.id for task in plan_tasks(ir)]
        assert len(ids) == len(set(ids)), name


# --- requirement IDs ------------------------------------------------------------------


def test_each_task_names_the_requirements_it_implements(library: ApplicationIR) -> None:
    tasks = by_id(plan_tasks(library))
    assert tasks["endpoint:F8"].requirement_ids == ["F8"]
    assert tasks["flow:F8"].requirement_ids == ["F8"]
    assert tasks["rule:R1"].requirement_ids == ["R1"]
    assert tasks["tests:rules"].requirement_ids == ["R1", "R2"]
    assert "Book.isbn.unique" in tasks["model:Book"].requirement_ids
    assert "Book.title.max_length" in tasks["schemas:Book"].requirement_ids
    assert "Book.isbn.unique" not in tasks["schemas:Book"].requirement_ids
    assert tasks["repository:Book"].requirement_ids == ["Book.isbn.unique"]
    assert tasks["app:errors"].requirement_ids == [
        "errors.not_found",
        "errors.validation",
        "errors.duplicate",
    ]
    # Flow endpoints are tested by their flow's tests, the others by the entity's.
    assert tasks["tests:Book"].requirement_ids[:3] == ["F1", "F2", "F3"]
    assert "F4" not in tasks["tests:Book"].requirement_ids
    assert tasks["tests:F8"].requirement_ids == ["F8"]


def test_unique_together_is_a_model_and_repository_requirement(
    examples: dict[str, ApplicationIR],
) -> None:
    tasks = by_id(plan_tasks(examples["bank"]))
    together = "Account.unique(owner,currency)"
    assert together in tasks["model:Account"].requirement_ids
    assert together in tasks["repository:Account"].requirement_ids
    assert together not in tasks["schemas:Account"].requirement_ids


def test_every_requirement_of_every_example_is_implemented_by_a_task(
    examples: dict[str, ApplicationIR],
) -> None:
    for name, ir in examples.items():
        implemented = {req for task in plan_tasks(ir) for req in task.requirement_ids}
        missing = {req.id for req in ir.validation.requirements} - implemented
        assert missing == set(), name


# --- signatures -----------------------------------------------------------------------


def test_signatures_say_purpose_inputs_outputs_domain_and_constraints(
    library: ApplicationIR,
) -> None:
    tasks = by_id(plan_tasks(library))
    book = tasks["model:Book"].signature
    assert "Book" in book.purpose
    assert book.outputs == ["app.models.book.Book"]
    assert book.inputs == ["app.database.Base"]
    assert book.domain == ["Book"]
    [entity] = book.constraints
    assert entity == constraint("entity", content(library.domain.entities[0]))

    borrow = tasks["endpoint:F8"].signature
    tags = [text.split("@")[0] for text in borrow.constraints]
    assert tags[:2] == ["flow", "endpoint"]
    assert tags.count("entity") == 3
    assert borrow.domain == ["Book", "Member", "Loan"]


def test_constraints_are_digests_of_the_content_without_source_ranges(
    examples: dict[str, ApplicationIR],
) -> None:
    for ir in examples.values():
        for task in plan_tasks(ir):
            for text in task.signature.constraints:
                assert re.fullmatch(r"[a-z_]+@[0-9a-f]{64}", text), (task.id, text)
    book = examples["library"].domain.entities[0]
    assert constraint("entity", content(book)) == constraint(
        "entity", without_ranges(book.model_dump(mode="json"))
    )


def test_the_hash_is_sha256_of_the_canonical_signature(library: ApplicationIR) -> None:
    for task in plan_tasks(library):
        text = canonical_json(task.signature.model_dump(mode="json"))
        assert task.signature_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_hashes_are_stable_across_runs(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    assert hashes(library) == hashes(library) == hashes(compile_ok(library_text))


HASHES_IN_A_SUBPROCESS = """
import json, sys
from specloom.plan.planner import plan_tasks
from specloom.spec.compiler import compile_spec
ir = compile_spec(open(sys.argv[1], encoding="utf-8").read()).ir
print(json.dumps({task.id: task.signature_hash for task in plan_tasks(ir)}))
"""


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_hashes_are_stable_across_processes(library: ApplicationIR, seed: str) -> None:
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-c", HASHES_IN_A_SUBPROCESS, str(ROOT / "examples" / "library.spec.md")],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    assert json.loads(result.stdout) == hashes(library)


def test_blank_lines_at_the_top_change_no_hash(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    moved = compile_ok("\n\n\n" + library_text)
    assert moved.domain.entities[0].range != library.domain.entities[0].range
    assert changed(hashes(library), hashes(moved)) == set()


def test_moving_lines_between_sections_changes_no_hash(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    moved = library_text.replace("## Endpoints", "\n\n\n## Endpoints").replace(
        "## Rules", "\n## Rules"
    )
    assert changed(hashes(library), hashes(compile_ok(moved))) == set()


def test_a_paragraph_at_the_top_changes_only_what_shows_the_description(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    edited = compile_ok("Reviewed by the library board.\n\n" + library_text)
    assert changed(hashes(library), hashes(edited)) == {"app:main", "infra:readme"}


def test_editing_members_fields_changes_what_depends_on_member_only(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    edited_text = library_text.replace(
        "- full_name: string, required, max length 120",
        "- full_name: string, required, max length 160\n- phone: string, optional",
    )
    touched = changed(hashes(library), hashes(compile_ok(edited_text)))
    for task_id in (
        "model:Member",
        "schemas:Member",
        "repository:Member",
        "endpoint:F5",
        "flow:F8",
    ):
        assert task_id in touched
    assert {"endpoint:F8", "flow:F9", "tests:Member", "tests:F8", "rule:R2"} <= touched
    for task_id in ("model:Book", "schemas:Book", "repository:Book", "model:Loan", "endpoint:F1"):
        assert task_id not in touched
    assert {"flow:F4", "rule:R1", "app:database", "app:errors", "infra:dockerfile"}.isdisjoint(
        touched
    )


def test_a_flow_edit_changes_its_flow_endpoint_and_tests_only(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    edited = compile_ok(library_text.replace('"loan limit reached"', '"at most three loans"'))
    assert changed(hashes(library), hashes(edited)) == {"flow:F8", "endpoint:F8", "tests:F8"}


def test_a_constraint_edit_changes_the_entitys_tasks(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    edited = compile_ok(
        library_text.replace(
            "title: string, required, max length 200", "title: string, required, max length 250"
        )
    )
    touched = changed(hashes(library), hashes(edited))
    assert {"model:Book", "schemas:Book", "repository:Book", "tests:Book", "endpoint:F1"} <= touched
    assert "model:Member" not in touched


def test_a_new_endpoint_changes_its_entitys_repository_and_the_readme(
    library: ApplicationIR, compile_ok: CompileOk, library_text: str
) -> None:
    edited = compile_ok(
        library_text.replace(
            "- F10. GET /members/{id}/loans",
            "- F11. DELETE /books/{id}: remove a book\n- F10. GET /members/{id}/loans",
        )
    )
    touched = changed(hashes(library), hashes(edited))
    assert "endpoint:F11" in touched
    assert {"repository:Book", "tests:Book", "infra:readme"} <= touched
    assert {"model:Book", "repository:Member", "endpoint:F1", "flow:F8"}.isdisjoint(touched)


def test_planning_leaves_the_ir_unchanged(library: ApplicationIR) -> None:
    before = library.model_dump_json()
    plan_tasks(library)
    assert library.model_dump_json() == before
