"""Benchmark of phases 1 to 5: compile a spec, then plan it (tasks, atomic specs, DAG).

Times `compile_spec` + `make_plan` for every example spec and for a synthetic spec of
60 entities and 800 endpoints generated here, and checks the target: phases 1 to 5
under 1 s.

    .venv/bin/python -c "import sys; sys.path.insert(0, '.'); from bench.plan import main; main()"
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec
from specloom.spec.names import plural, snake

from bench import stats

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TARGET_MS = 1000.0
SYNTHETIC_ENTITIES = 60
SYNTHETIC_ENDPOINTS = 800

_ENTITY_WORDS = """
Customer Supplier Warehouse Product Category Invoice Payment Shipment Carrier
Driver Vehicle Route Depot Employee Department Team Project Task Milestone Contract
Vendor Asset License Ticket Incident Agent Queue Campaign Lead Contact Account
Opportunity Quote Order Refund Coupon Discount Store Region Territory Manager
Course Lesson Student Teacher Classroom Exam Grade Book Author Publisher Library
Event Venue Speaker Meeting Sponsor Badge Survey Question
"""
ENTITY_NAMES = tuple(_ENTITY_WORDS.split())


# --- the synthetic spec -------------------------------------------------------------


def collection(entity: str) -> str:
    return "/" + plural(snake(entity)).replace("_", "-")


def words(entity: str) -> str:
    return snake(entity).replace("_", " ")


def parents_of(index: int) -> list[int]:
    """Each entity after the first refers to up to two earlier ones."""
    return sorted({index - 1, index // 2} - {index}) if index > 0 else []


class SyntheticSpec:
    """A realistic spec of `entities` entities and exactly `endpoints` endpoints: CRUD
    lines, explicit endpoints, nested lists and creates, and actions with flows."""

    def __init__(self, entities: int = SYNTHETIC_ENTITIES, endpoints: int = SYNTHETIC_ENDPOINTS):
        self.names = ENTITY_NAMES[:entities]
        self.target = endpoints
        self.count = 0  # IDs given
        self.endpoints = 0  # endpoints they stand for (a CRUD line is five)
        self.endpoint_lines: list[str] = []
        self.flow_lines: list[str] = []

    def text(self) -> str:
        entity_lines = [line for i in range(len(self.names)) for line in self.entity(i)]
        for i in range(len(self.names)):
            self.resource_endpoints(i)
        self.actions()
        rules = [
            f"- R{i + 1}. A {words(name)}'s counter is never negative."
            for i, name in enumerate(self.names[::3])
        ]
        return "\n".join(
            [
                "# Operations Hub",
                "",
                "A synthetic back office used to measure planning on a large spec.",
                "",
                "## Entities",
                *entity_lines,
                "## Endpoints",
                *self.endpoint_lines,
                "",
                "## Flows",
                *self.flow_lines,
                "## Rules",
                *rules,
                "",
                "## Errors",
                "- An unknown id in the path or in a reference answers 404.",
                "- A field that breaks its constraints answers 422.",
                "- A duplicate value of a unique field answers 409.",
                "",
            ]
        )

    def entity(self, i: int) -> list[str]:
        name = self.names[i]
        lines = [
            "",
            f"### {name}",
            "- name: string, required, max length 120",
            "- code: string, required, unique, pattern `^[A-Z]{3}-[0-9]{4}$`",
            "- notes: text, optional",
            "- status: enum ACTIVE | ARCHIVED, default ACTIVE, read-only",
            "- counter: integer, default 0, read-only",
            "- budget: decimal(12,2), >= 0, default 0",
            "- contact_email: email, optional",
            "- starts_on: date, optional",
            "- created_at: datetime, set on create, read-only",
            "- updated_at: datetime, set on update, read-only",
        ]
        lines += [f"- {snake(self.names[p])}: {self.names[p]}, required" for p in parents_of(i)]
        children = [c for c in range(1, len(self.names)) if c // 2 == i]
        lines += [f"- {plural(snake(self.names[c]))}: list of {self.names[c]}" for c in children]
        return [*lines, ""]

    def add(self, line: str, endpoints: int = 1) -> str:
        self.count += 1
        self.endpoints += endpoints
        endpoint_id = f"F{self.count}"
        self.endpoint_lines.append(f"- {endpoint_id}. {line}")
        return endpoint_id

    def resource_endpoints(self, i: int) -> None:
        name = self.names[i]
        path = collection(name)
        if i % 2 == 0:
            self.add(f"CRUD {path}: filter by status, ordered by name", endpoints=5)
        else:
            self.add(f"POST {path}: create a {words(name)}")
            self.add(f"GET {path}: list {plural(words(name))}, filter by status, paginated")
            self.add(f"GET {path}/{{id}}: get a {words(name)}")
            self.add(f"PATCH {path}/{{id}}: update name, notes, budget")
            self.add(f"DELETE {path}/{{id}}: delete a {words(name)}")
        self.add(f"PUT {path}/{{id}}: replace a {words(name)}")
        for p in parents_of(i):
            parent = collection(self.names[p])
            child = plural(snake(name)).replace("_", "-")
            self.add(f"GET {parent}/{{id}}/{child}: list the {plural(words(name))}, paginated")
            self.add(f"POST {parent}/{{id}}/{child}: add a {words(name)}")

    def actions(self) -> None:
        """Actions with flows, round robin over the entities, up to the endpoint target."""
        verbs = ("archive", "reopen", "bump", "reset")
        for round_ in range(len(verbs)):
            for i, name in enumerate(self.names):
                if self.endpoints >= self.target:
                    return
                self.action(name, verbs[round_], i)

    def action(self, name: str, verb: str, i: int) -> None:
        record = snake(name)
        endpoint_id = self.add(f"POST {collection(name)}/{{id}}/{verb}: {verb} the {words(name)}")
        steps = {
            "archive": [
                f'- Require {record}.status is ACTIVE, else 409 "{words(name)} is archived".',
                *(
                    f"- Require {record}.{snake(self.names[p])}.status is ACTIVE, else 409 "
                    f'"the {words(self.names[p])} is archived".'
                    for p in parents_of(i)[:1]
                ),
                f"- Set {record}.status to ARCHIVED.",
            ],
            "reopen": [
                f'- Require {record}.status is ARCHIVED, else 409 "{words(name)} is active".',
                f"- Set {record}.status to ACTIVE.",
            ],
            "bump": [
                f'- Require {record}.counter < 1000, else 409 "counter at its limit".',
                f"- Increase {record}.counter by 1.",
                f"- Respond 200 with the {record}.",
            ],
            "reset": [f"- Set {record}.counter to 0."],
        }[verb]
        self.flow_lines += ["", f"### {endpoint_id}. {verb.capitalize()} the {words(name)}"]
        self.flow_lines += [*steps, ""]


def synthetic_spec() -> str:
    return SyntheticSpec().text()


# --- timing ---------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    lines: int
    tasks: int
    edges: int
    levels: int
    times_ms: list[float]
    compile_ms: list[float]

    @property
    def median(self) -> float:
        return stats.median(self.times_ms)

    @property
    def p95(self) -> float:
        return stats.p95(self.times_ms)


def measure(name: str, text: str, runs: int) -> Result:
    times: list[float] = []
    compiling: list[float] = []
    tasks = edges = levels = 0
    for _ in range(runs):
        started = time.perf_counter()
        compiled = compile_spec(text, name)
        compiled_at = time.perf_counter()
        plan, _ = make_plan(compiled.ir, "bench")
        finished = time.perf_counter()
        times.append((finished - started) * 1000)
        compiling.append((compiled_at - started) * 1000)
        tasks, edges, levels = len(plan.tasks), len(plan.edges), len(plan.levels)
    return Result(name, text.count("\n") + 1, tasks, edges, levels, times, compiling)


def check_synthetic(text: str) -> None:
    compiled = compile_spec(text, "synthetic")
    errors = [d.format("synthetic") for d in compiled.errors]
    assert not errors, "the synthetic spec must compile cleanly:\n" + "\n".join(errors[:20])
    endpoints = len(compiled.ir.api.endpoints)
    entities = len(compiled.ir.domain.entities)
    assert (entities, endpoints) == (SYNTHETIC_ENTITIES, SYNTHETIC_ENDPOINTS), (
        f"the synthetic spec has {entities} entities and {endpoints} endpoints"
    )


def report(results: list[Result], runs: int) -> None:
    print(f"phases 1-5 (compile + plan), {runs} runs each")
    header = f"{'input':<24} {'lines':>6} {'tasks':>6} {'edges':>6} {'levels':>6}"
    print(f"{header} {'median ms':>10} {'p95 ms':>8}   (of the median: phases 1-2 / 3-5)")
    for r in results:
        row = f"{r.name:<24} {r.lines:>6} {r.tasks:>6} {r.edges:>6} {r.levels:>6}"
        compiling = statistics.median(r.compile_ms)
        split = f"{compiling:.1f} / {r.median - compiling:.1f}"
        print(f"{row} {r.median:>10.1f} {r.p95:>8.1f}   {split}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench plan", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per input (default 10)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    results = [
        measure(path.name, path.read_text(encoding="utf-8"), runs)
        for path in sorted(EXAMPLES.glob("*.spec.md"))
    ]
    text = synthetic_spec()
    check_synthetic(text)
    synthetic = measure(f"synthetic {SYNTHETIC_ENTITIES}e/{SYNTHETIC_ENDPOINTS}ep", text, runs)
    report([*results, synthetic], runs)
    met = synthetic.p95 < TARGET_MS
    verdict = "met" if met else "MISSED"
    print(
        f"target: phases 1 to 5 under 1 s: {verdict} (synthetic spec: median "
        f"{synthetic.median:.0f} ms, p95 {synthetic.p95:.0f} ms)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
