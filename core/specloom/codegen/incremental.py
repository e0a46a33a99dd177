"""Incremental regeneration: what an edit of the spec changed since the last verified
generation, so that only that is written and verified again.

A `Baseline` is what the last run that verified clean (phases 7, 9 and 10 passed)
generated: each task's signature hash and each file's digest. The next generation of
the same spec into the same output directory compares against it:

- the changed tasks are those whose signature hash differs, new tasks, and every task
  that depends on one of those, transitively (the plan's edges);
- the changed files are those whose text differs from the baseline's, and new ones;
- the affected requirements are those the changed tasks implement.

A baseline only holds while the output directory still has exactly the files it
generated: a file edited or deleted since then means nothing is known, and the whole
app is verified again. Baselines live as long as the process (the language server,
`specloom watch`); a first run, and every CLI run, verifies everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from specloom.pipeline.generated import digest
from specloom.plan.model import Plan


@dataclass(frozen=True)
class Baseline:
    signatures: Mapping[str, str]
    """task id -> signature hash"""
    files: Mapping[str, str]
    """path -> sha256 of the text generated"""

    @classmethod
    def of(cls, plan: Plan, tree: Mapping[str, str]) -> Baseline:
        return cls(
            signatures={task.id: task.signature_hash for task in plan.tasks},
            files={path: digest(text.encode()) for path, text in tree.items()},
        )

    def intact(self, out_dir: Path) -> bool:
        """Whether the output directory still holds every file as generated."""
        for path, expected in self.files.items():
            try:
                if digest((out_dir / path).read_bytes()) != expected:
                    return False
            except OSError:
                return False
        return True


@dataclass(frozen=True)
class Affected:
    """What one generation changed against its baseline."""

    tasks: frozenset[str]
    requirements: frozenset[str]
    files: frozenset[str]
    removed: frozenset[str]
    total_tasks: int

    def summary(self) -> str:
        return (
            f"incremental: {len(self.tasks)} of {self.total_tasks} tasks changed, "
            f"{len(self.files)} files changed, {len(self.removed)} removed"
        )


def affected(plan: Plan, tree: Mapping[str, str], baseline: Baseline) -> Affected:
    """The tasks, requirements and files that differ from `baseline`."""
    changed = {
        task.id for task in plan.tasks if baseline.signatures.get(task.id) != task.signature_hash
    }
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(task.id for task in plan.tasks)
    graph.add_edges_from(plan.edges)  # task -> the task it depends on
    for task_id in list(changed):
        changed |= nx.ancestors(graph, task_id)  # those that depend on it
    requirements = {
        requirement
        for task in plan.tasks
        if task.id in changed
        for requirement in task.requirement_ids
    }
    files = {
        path for path, text in tree.items() if baseline.files.get(path) != digest(text.encode())
    }
    return Affected(
        tasks=frozenset(changed),
        requirements=frozenset(requirements),
        files=frozenset(files),
        removed=frozenset(set(baseline.files) - set(tree)),
        total_tasks=len(plan.tasks),
    )
