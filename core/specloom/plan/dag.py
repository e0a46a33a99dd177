"""Phase 5, the dependency graph: edges, cycles and parallel levels.

An edge goes from a task to each task that produces a symbol it needs (the task
depends on it). Level 0 holds the tasks that need nothing; every task sits one
level after its latest dependency, so the tasks of one level can run in parallel.
A cycle is reported (SL701) with every task on it; the tasks on a cycle, and those
that depend on them, get no level.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from specloom.ir.application import ApplicationIR
from specloom.ir.common import SourceRange
from specloom.plan.atomizer import atomize_with
from specloom.plan.index import PlanIndex
from specloom.plan.model import Plan, Task
from specloom.plan.planner import plan_with
from specloom.spec.diagnostics import CODES, Diagnostic

UNKNOWN_NEEDS = "unknown_needs"


def build_graph(tasks: list[Task]) -> nx.DiGraph[str]:
    """One node per task (its `Task` under `task`), one edge per dependency.

    A needed symbol no task produces is kept in `graph.graph["unknown_needs"]` as
    (task ID, symbol) pairs; `make_plan` reports each as SL702.
    """
    graph: nx.DiGraph[str] = nx.DiGraph()
    producers: dict[str, list[str]] = {}
    for task in tasks:
        graph.add_node(task.id, task=task)
        for produced in task.atomic.produces if task.atomic else []:
            for symbol in produced.symbols:
                producers.setdefault(symbol, []).append(task.id)
    unknown: list[tuple[str, str]] = []
    for task in tasks:
        for symbol in task.atomic.needs if task.atomic else []:
            if symbol not in producers:
                unknown.append((task.id, symbol))
            for producer in producers.get(symbol, []):
                if producer != task.id:
                    graph.add_edge(task.id, producer)
    graph.graph[UNKNOWN_NEEDS] = unknown
    return graph


def find_cycles(graph: nx.DiGraph[str], per_knot: int = 20) -> list[list[str]]:
    """Cycles that, together, name every task caught in a knot of tasks depending on each
    other (up to `per_knot` cycles a knot). Each cycle starts at its smallest task ID;
    the list is sorted."""
    cycles: list[list[str]] = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            cycles += knot_cycles(graph.subgraph(component), per_knot)
    return sorted(cycles)


def knot_cycles(knot: nx.DiGraph[str], limit: int) -> list[list[str]]:
    """For each task of the knot not yet on a found cycle, the shortest cycle through it."""
    cycles: list[list[str]] = []
    covered: set[str] = set()
    for task_id in sorted(knot):
        if len(cycles) == limit:
            break
        if task_id not in covered:
            cycle = shortest_cycle_through(knot, task_id)
            covered.update(cycle)
            first = cycle.index(min(cycle))
            cycles.append(cycle[first:] + cycle[:first])
    return cycles


def shortest_cycle_through(knot: nx.DiGraph[str], task_id: str) -> list[str]:
    """The tasks of the shortest cycle from `task_id` back to itself (ties: the smallest)."""
    paths = nx.single_source_shortest_path(knot, task_id)
    back = [paths[before] for before in knot.predecessors(task_id) if before in paths]
    return min(back, key=lambda path: (len(path), path))


def blocked(graph: nx.DiGraph[str]) -> set[str]:
    """Tasks on a cycle and every task that depends on one: none of them can be levelled."""
    stuck = {
        task_id
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1
        for task_id in component
    }
    waiting = list(stuck)
    while waiting:
        for dependant in graph.predecessors(waiting.pop()):
            if dependant not in stuck:
                stuck.add(dependant)
                waiting.append(dependant)
    return stuck


def levels(graph: nx.DiGraph[str]) -> list[list[str]]:
    """Parallel levels, dependencies first, sorted within a level; only the acyclic part."""
    acyclic = graph.subgraph(set(graph) - blocked(graph))
    generations = nx.topological_generations(acyclic.reverse(copy=False))
    return [sorted(generation) for generation in generations]


def make_plan(ir: ApplicationIR, spec_hash: str) -> tuple[Plan, list[Diagnostic]]:
    """Phases 3 to 5: the tasks, their atomic specs, edges, levels and cycle report."""
    with collector_paused():
        index = PlanIndex.of(ir)
        return assemble(index, atomize_with(index, plan_with(index)), spec_hash)


def assemble_plan(
    ir: ApplicationIR, tasks: list[Task], spec_hash: str
) -> tuple[Plan, list[Diagnostic]]:
    """Phase 5 alone, for tasks phases 3 and 4 have made (`atomize(ir, plan_tasks(ir))`)."""
    with collector_paused():
        return assemble(PlanIndex.of(ir), tasks, spec_hash)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Like the compiler, planning allocates many objects and frees few, so the cyclic
    garbage collector only slows it down: it is paused meanwhile."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def assemble(index: PlanIndex, tasks: list[Task], spec_hash: str) -> tuple[Plan, list[Diagnostic]]:
    graph = build_graph(tasks)
    cycles = find_cycles(graph)
    plan_levels = levels(graph)
    level_of = {task_id: n for n, level in enumerate(plan_levels) for task_id in level}
    placed = [
        task.model_copy(
            update={"depends_on": sorted(graph.successors(task.id)), "level": level_of.get(task.id)}
        )
        for task in tasks
    ]
    plan = Plan(
        spec_name=index.ir.name,
        spec_hash=spec_hash,
        ir_version=index.ir.ir_version,
        tasks=placed,
        edges=sorted(graph.edges()),
        levels=plan_levels,
        cycles=cycles,
    )
    return plan, diagnostics(index, graph, cycles)


def diagnostics(
    index: PlanIndex, graph: nx.DiGraph[str], cycles: list[list[str]]
) -> list[Diagnostic]:
    """SL701 for each cycle, SL702 for each needed symbol no task produces."""
    found: list[Diagnostic] = []
    for cycle in cycles:
        path = " -> ".join([*cycle, cycle[0]])
        found.append(
            diagnostic(
                "SL701",
                f"these tasks depend on each other: {path}. {cycle_hint(index, cycle)}",
                node_range(index, cycle),
            )
        )
    for task_id, symbol in graph.graph.get(UNKNOWN_NEEDS, []):
        found.append(
            diagnostic(
                "SL702",
                f"{task_id} needs {symbol}, which no task produces: check that what it "
                "names is declared in the spec",
                node_range(index, [task_id]),
            )
        )
    return found


def cycle_hint(index: PlanIndex, cycle: list[str]) -> str:
    """How to break a cycle: name the collections that embed each other, when they do."""
    on_cycle = {task_id.partition(":")[2] for task_id in cycle if task_id.startswith("schemas:")}
    collections = [
        f"{entity.name}.{field.name}"
        for name in sorted(on_cycle)
        if (entity := index.entities.get(name)) is not None
        for field in entity.fields
        if field.type.kind == "collection" and field.type.entity in on_cycle
    ]
    if collections:
        return (
            f"The collections {', '.join(collections)} embed each other's records in the "
            "responses: drop one of them, or list those records through their own endpoint"
        )
    return "Break the cycle in the spec: drop one of the links that make them need each other"


def diagnostic(code: str, message: str, where: SourceRange) -> Diagnostic:
    return Diagnostic(code=code, severity=CODES[code][0], message=message, range=where)


def node_range(index: PlanIndex, task_ids: list[str]) -> SourceRange:
    """The spec range of the first IR node behind these tasks, or the whole spec's."""
    for task_id in task_ids:
        kind, _, subject = task_id.partition(":")
        node = (
            {
                "endpoint": index.endpoints.get(subject),
                "flow": index.flows.get(subject),
                "rule": index.rules.get(subject),
            }.get(kind)
            or index.entities.get(subject)
            or index.flows.get(subject)
        )
        if node is not None:
            return node.range
    return index.ir.range
