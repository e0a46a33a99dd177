"""The labelled retrieval set of the pattern bank: which stored tasks are a useful
pattern for a new one. Writes bench/data/recall_set.json; `python -m bench.recall_set`
regenerates it, `--check` says whether the file on disk is what this script makes.

The bank: every task of every spec in examples/ except prose.spec.md (the same app
as rooms.spec.md), named `<spec stem>:<task id>` (`library:endpoint:F8`).

The queries: the tasks of specs the bank has never seen, in other domains:
tests/codegen/specs/*.spec.md and bench/data/specs/*.spec.md (written for this set).
`app:*` and `infra:*` tasks are left out: they are the same in every spec, found by
their exact signature, not by similarity. A query none of whose bank items is
relevant is left out too (listed in the file's `dropped`), and so is a query whose
kind and shape (below) an earlier task of the same spec already has (`repeated`):
four CRUD groups of one spec would otherwise ask the same question four times.

The rule. A bank item is relevant to a query when it has the same task kind and the
same *shape*: the features of the spec that decide how the code is written, read from
the compiled spec (the IR), never from the names or words of the text:

- endpoint: the operation (the IR's endpoint kind: create, list, get, update,
  delete, delete_children, action), the HTTP method, whether it sits under a parent
  (`/shelves/{id}/items`) and whether a flow implements it. `F4 POST
  /shelves/{id}/items` (nested create, no flow) matches `rooms:endpoint:F2`'s shape
  only if that one has no flow either.
- model: which of these the entity has: a reference field, a collection field (`list
  of X`), an enum field, a uniqueness constraint (a unique field or unique together).
  They decide the columns, foreign keys, relationships and constraints to write.
- schemas: a reference field, an enum field, a read-only field (left out of the
  create and update schemas), a numeric or temporal bound (a validator).
- repository: a unique field, a unique-together constraint (the checks `add` makes).
- flow: the set of its effect steps (create, set, adjust, delete, find, for each,
  if), `set ... from the input` counted as set; guards and the response are in
  every flow and say nothing.
- rule: the rule's kind (compare, no_overlap, cardinality) and, for a comparison,
  whether its right side is a constant or another field and whether it reaches
  another entity (`its room's capacity`).
- tests of an entity: the same set of endpoint kinds tested (create, list, ...).
  Tests of a flow: the flow's shape as above. Tests of the rules: the same set of
  rule shapes.

So relevance is exact-match on a small, named feature vector per kind: a human can
check each label by reading the two specs, and the labels never reward sharing a
word. Retrieval that ranks by text similarity has to find the same *kind of code*
under other names.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    CompareRule,
    CreateStep,
    DeleteStep,
    Expr,
    FindStep,
    ForEachStep,
    IfStep,
    PathExpr,
    SetFromInput,
    SetStep,
    walk_steps,
)
from specloom.ir.domain import Entity
from specloom.plan.dag import make_plan
from specloom.plan.model import Task
from specloom.spec.compiler import compile_spec

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "data" / "recall_set.json"
BANK_DIR = ROOT / "examples"
BANK_EXCLUDE = {"prose"}
QUERY_DIRS = (ROOT / "tests" / "codegen" / "specs", ROOT / "bench" / "data" / "specs")
SKIP_KINDS = {"app", "infra"}

_EFFECTS: dict[type, str] = {
    CreateStep: "create",
    SetStep: "set",
    SetFromInput: "set",
    AdjustStep: "adjust",
    DeleteStep: "delete",
    FindStep: "find",
    ForEachStep: "for_each",
    IfStep: "if",
}


@dataclass(frozen=True)
class Item:
    """One task of one spec, with the shape the rule compares."""

    key: str  # "<spec stem>:<task id>"
    spec: str  # path relative to the repository
    task: Task
    shape: str


def stem(path: Path) -> str:
    return path.name.removesuffix(".spec.md")


def compile_plan(path: Path) -> tuple[ApplicationIR, list[Task]]:
    result = compile_spec(path.read_text(encoding="utf-8"))
    errors = [d for d in result.diagnostics if str(d.severity) == "error"]
    if errors:
        raise ValueError(f"{path}: {errors[0].format(str(path))}")
    plan = make_plan(result.ir, "hash")[0]
    return result.ir, list(plan.tasks)


def bank_paths() -> list[Path]:
    return [p for p in sorted(BANK_DIR.glob("*.spec.md")) if stem(p) not in BANK_EXCLUDE]


def query_paths() -> list[Path]:
    return [p for folder in QUERY_DIRS for p in sorted(folder.glob("*.spec.md"))]


# --- shapes -------------------------------------------------------------------------


def _flags(**named: bool) -> str:
    return ",".join(name for name, on in named.items() if on) or "-"


def _entity(ir: ApplicationIR, name: str) -> Entity | None:
    return next((e for e in ir.domain.entities if e.name == name), None)


def entity_shape(kind: str, entity: Entity) -> str:
    kinds = {f.type.kind for f in entity.fields}
    if kind == "model":
        return _flags(
            reference="reference" in kinds,
            collection="collection" in kinds,
            enum="enum" in kinds,
            unique=any(f.unique for f in entity.fields) or bool(entity.unique_together),
        )
    if kind == "schemas":
        return _flags(
            reference="reference" in kinds,
            enum="enum" in kinds,
            read_only=any(f.read_only for f in entity.fields),
            bounds=any(f.bounds for f in entity.fields),
        )
    return _flags(  # repository
        unique=any(f.unique for f in entity.fields),
        unique_together=bool(entity.unique_together),
    )


def flow_shape(ir: ApplicationIR, flow_id: str) -> str:
    flow = ir.behaviour.flow(flow_id)
    if flow is None:
        return "?"
    effects = {_EFFECTS[type(s)] for s in walk_steps(flow.steps) if type(s) in _EFFECTS}
    return "+".join(sorted(effects)) or "-"


def _mentions_field(value: Any) -> bool:
    """Whether a dumped expression holds a path (a field), at any depth."""
    if isinstance(value, dict):
        return value.get("kind") == "path" or any(_mentions_field(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_field(v) for v in value)
    return False


def _is_constant(expr: Expr) -> bool:
    """A literal, the clock, or arithmetic on them: no field of a record."""
    return not _mentions_field(expr.model_dump())


def rule_shape(ir: ApplicationIR, rule_id: str) -> str:
    rule = next((r for r in ir.behaviour.rules if r.id == rule_id), None)
    if rule is None:
        return "?"
    body = rule.body
    if isinstance(body, CompareRule):
        paths = [p for p in (body.left, body.right) if isinstance(p, PathExpr)]
        reaches = any(len(p.parts) > 1 for p in paths)
        right = "constant" if _is_constant(body.right) else "field"
        return f"compare {right}" + (" other-entity" if reaches else "")
    return body.kind


def task_shape(ir: ApplicationIR, task: Task) -> str:
    if task.kind in ("model", "schemas", "repository"):
        entity = _entity(ir, task.subject)
        return "?" if entity is None else entity_shape(task.kind, entity)
    if task.kind == "endpoint":
        endpoint = next((e for e in ir.api.endpoints if e.id == task.subject), None)
        if endpoint is None:
            return "?"
        where = "nested" if endpoint.parent else "top"
        flow = "flow" if endpoint.flow else "no-flow"
        return f"{endpoint.kind} {endpoint.method} {where} {flow}"
    if task.kind == "flow":
        return flow_shape(ir, task.subject)
    if task.kind == "rule":
        return rule_shape(ir, task.subject)
    if task.kind == "tests":
        return tests_shape(ir, task)
    return task.subject  # app, infra: the same task in every spec


def tests_shape(ir: ApplicationIR, task: Task) -> str:
    if task.subject == "rules":
        shapes = sorted({rule_shape(ir, r) for r in task.requirement_ids})
        return "rules: " + "; ".join(shapes)
    if ir.behaviour.flow(task.subject) is not None and task.title.startswith("Tests of flow"):
        return "flow: " + flow_shape(ir, task.subject)
    tested = {e.id: e.kind for e in ir.api.endpoints}
    kinds = sorted({tested[r] for r in task.requirement_ids if r in tested})
    return "entity: " + ("+".join(kinds) or "-")


def items(paths: Iterable[Path]) -> list[Item]:
    found: list[Item] = []
    for path in paths:
        ir, tasks = compile_plan(path)
        spec = path.relative_to(ROOT).as_posix()
        for task in tasks:
            key = f"{stem(path)}:{task.id}"
            found.append(Item(key, spec, task, task_shape(ir, task)))
    return found


# --- the set ------------------------------------------------------------------------


def build() -> dict[str, Any]:
    bank = items(bank_paths())
    queries: list[dict[str, Any]] = []
    dropped: list[str] = []
    repeated: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for query in items(query_paths()):
        if query.task.kind in SKIP_KINDS:
            continue
        if (query.spec, query.task.kind, query.shape) in seen:
            repeated.append(query.key)
            continue
        seen.add((query.spec, query.task.kind, query.shape))
        relevant = [
            b.key for b in bank if b.task.kind == query.task.kind and b.shape == query.shape
        ]
        if not relevant:
            dropped.append(query.key)
            continue
        queries.append(
            {
                "query": query.key,
                "spec": query.spec,
                "kind": query.task.kind,
                "shape": query.shape,
                "relevant": relevant,
            }
        )
    return {
        "about": "labelled pattern-bank retrieval set; rule and regeneration: bench/recall_set.py",
        "bank_specs": [p.relative_to(ROOT).as_posix() for p in bank_paths()],
        "query_specs": [p.relative_to(ROOT).as_posix() for p in query_paths()],
        "bank": [b.key for b in bank],
        "queries": queries,
        "dropped": dropped,
        "repeated": repeated,
    }


def render(data: dict[str, Any]) -> str:
    """The file's text: one query a line, so a diff shows which label changed."""
    lines = ["{"]
    for name in ("about", "bank_specs", "query_specs", "bank"):
        lines.append(f"  {json.dumps(name)}: {json.dumps(data[name])},")
    lines.append('  "queries": [')
    rows = [f"    {json.dumps(q)}" for q in data["queries"]]
    lines.append(",\n".join(rows))
    lines.append("  ],")
    lines.append(f'  "dropped": {json.dumps(data["dropped"])},')
    lines.append(f'  "repeated": {json.dumps(data["repeated"])}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def load(path: Path = OUT) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recall_set", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT.relative_to(ROOT)} is stale: regenerate it")
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    data = json.loads(text)
    sizes = [len(q["relevant"]) for q in data["queries"]]
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(data['bank'])} bank items, "
        f"{len(sizes)} queries ({len(data['dropped'])} without a relevant item and "
        f"{len(data['repeated'])} repeating a shape of their spec left out), "
        f"relevant per query {min(sizes)}-{max(sizes)}, mean {sum(sizes) / len(sizes):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
