"""The pattern library of a workspace: patterns on the backends' graph and vectors.

- The graph holds each pattern (a `Pattern` node with its code and statistics), the
  task it implements (`IMPLEMENTS`), the requirements that task satisfies
  (`SATISFIES`), the run that verified it (`FROM_RUN`) and the plan's edges between
  tasks (`DEPENDS_ON`).
- The vectors hold each pattern's description, embedded, in the collection
  `patterns-<embedder>`; a point's payload carries its kind and subject (a filter on
  the kind keeps searches to tasks of the same kind).

`recall` finds the pattern of a task exactly (same generator, kind, subject and
signature hash); `nearest` ranks the others by cosine similarity, weighted by each
pattern's reliability and lifted when the graph puts its task next to the query's.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from specloom.backends.config import Backends, BackendSettings
from specloom.backends.graph import NodeRef
from specloom.backends.vectors import VectorPoint
from specloom.codegen.bank import Rendered
from specloom.codegen.generator import UNSHARED
from specloom.patterns.describe import describe
from specloom.patterns.embed import Embedder, embedder_from_env
from specloom.patterns.model import (
    Pattern,
    generator_fingerprint,
    imports_to_json,
    now,
    pattern_id,
)
from specloom.plan.model import Plan, Task

log = logging.getLogger(__name__)

KEEP_PER_TASK = 3
"""Patterns kept per task of a spec: the most recently used; older ones are dropped
(an edited entity leaves its earlier versions behind, and the library stays bounded)."""

NEIGHBOUR_BONUS = 0.1
"""Added to the score of a pattern whose task the graph links to the query's task."""


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Reuse and learning are on unless `SPECLOOM_LEARNING` says off."""
    environ = os.environ if environ is None else environ
    value = environ.get("SPECLOOM_LEARNING", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Scored:
    pattern: Pattern
    score: float
    similarity: float


@dataclass(frozen=True)
class Learned:
    stored: int  # new patterns
    updated: int  # patterns seen before, now used again


class PatternLibrary:
    def __init__(
        self, backends: Backends, embedder: Embedder, fingerprint: str | None = None
    ) -> None:
        self.backends = backends
        self.embedder = embedder
        self.fingerprint = fingerprint or generator_fingerprint()
        self.collection = "patterns-" + "".join(
            c if c.isalnum() or c in "-_" else "-" for c in embedder.name
        )
        self._ensured = False
        self.persist_in_background = False
        """Write the graph after learning in a task of its own instead of before the
        run goes on (a long-lived process: the language server); `close` writes it."""
        self._persisting: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        workspace: Path,
        settings: BackendSettings | None = None,
        embedder: Embedder | None = None,
    ) -> PatternLibrary:
        """The workspace's library on the configured stores (embedded by default).
        Raises `BackendUnavailable` when a store cannot be reached or is held by
        another process, `EmbedderUnavailable` when the embedder cannot be loaded."""
        embedder = embedder or embedder_from_env()
        backends = await Backends.open(workspace, settings)
        return cls(backends, embedder)

    @property
    def where(self) -> str:
        return f"{self.backends.graph.name} graph, {self.backends.vectors.name} vectors"

    async def close(self) -> None:
        if self._persisting is not None:
            await asyncio.gather(self._persisting, return_exceptions=True)
        await self.backends.close()

    async def _persist(self) -> None:
        if not self.persist_in_background:
            await self.backends.graph.flush()
            return
        if self._persisting is None or self._persisting.done():
            self._persisting = asyncio.ensure_future(self.backends.graph.flush())
            self._persisting.add_done_callback(_log_failure)

    async def _ensure(self) -> None:
        if not self._ensured:
            await self.backends.vectors.ensure(
                self.collection, self.embedder.dim, indexed=("kind",)
            )
            self._ensured = True

    # --- reading ------------------------------------------------------------------------

    async def get(self, pattern: str) -> Pattern | None:
        properties = await self.backends.graph.get_node(NodeRef("Pattern", pattern))
        if properties is None or "kind" not in properties:
            return None
        return Pattern.from_properties(pattern, properties)

    async def recall(self, tasks: Sequence[Task]) -> dict[str, Pattern]:
        """task id -> its reusable pattern, for the tasks that have one."""
        found: dict[str, Pattern] = {}
        for task in tasks:
            pattern = await self.get(pattern_id(task, self.fingerprint))
            if pattern is not None and pattern.reusable:
                found[task.id] = pattern
        return found

    async def nearest(self, task: Task, spec_name: str = "", limit: int = 5) -> list[Scored]:
        """The `limit` patterns closest to `task` (its own excepted), best first:
        cosine similarity of the descriptions times the pattern's reliability (as a
        factor between 0.5 and 1), plus `NEIGHBOUR_BONUS` when the graph links the
        pattern's task to this one (a plan edge, or a requirement in common)."""
        await self._ensure()
        vector = self.embedder.embed([describe(task)])[0]
        own = pattern_id(task, self.fingerprint)
        hits = await self.backends.vectors.search(
            self.collection, vector, limit=limit * 3 + 1, filter={"kind": task.kind}
        )
        neighbours = await self._neighbour_tasks(spec_name, task)
        scored: list[Scored] = []
        for hit in hits:
            if hit.id == own:
                continue
            pattern = await self.get(hit.id)
            if pattern is None:
                continue
            score = hit.score * (0.5 + pattern.reliability / 2)
            if pattern.task_key in neighbours:
                score += NEIGHBOUR_BONUS
            scored.append(Scored(pattern, score, hit.score))
        scored.sort(key=lambda s: (-s.score, s.pattern.id))
        return scored[:limit]

    async def _neighbour_tasks(self, spec_name: str, task: Task) -> set[str]:
        node = NodeRef("Task", task_key(spec_name, task))
        if await self.backends.graph.get_node(node) is None:
            return set()
        found = await self.backends.graph.neighbours(
            node, depth=2, relations=("DEPENDS_ON", "SATISFIES")
        )
        return {n.node.id for n in found if n.node.label == "Task"}

    async def count(self) -> int:
        return await self.backends.graph.count("Pattern")

    # --- learning -----------------------------------------------------------------------

    async def learn(
        self,
        plan: Plan,
        rendered: Mapping[str, Rendered],
        requirement_kinds: Mapping[str, str],
        run_id: str,
    ) -> Learned:
        """Keep the pattern of every task `rendered` holds (a run that verified clean),
        but the shell's (`app`, `infra`: always rendered anew): new ones are stored,
        known ones count one more use and success."""
        await self._ensure()
        graph = self.backends.graph
        stamp = now()
        stored = updated = 0
        new: list[tuple[str, str, dict[str, str]]] = []  # id, description, payload
        run = NodeRef("Run", run_id)
        await graph.merge_node(run, {"spec_hash": plan.spec_hash, "at": stamp})
        tasks = {task.id: task for task in plan.tasks}
        for task_id, what in rendered.items():
            task = tasks.get(task_id)
            if task is None or task.kind in UNSHARED:  # never reused: not kept
                continue
            key = pattern_id(task, self.fingerprint)
            known = await self.get(key)
            if known is not None:
                await graph.merge_node(
                    NodeRef("Pattern", key),
                    {
                        "uses": known.uses + 1,
                        "successes": known.successes + 1,
                        "last_used": stamp,
                    },
                )
                updated += 1
                continue
            description = describe(task)
            pattern = Pattern(
                id=key,
                kind=task.kind,
                subject=task.subject,
                title=task.title,
                signature_hash=task.signature_hash,
                fingerprint=self.fingerprint,
                description=description,
                files=list(what.files),
                part=what.part[0] if what.part is not None else None,
                part_imports=imports_to_json(what.part[1]) if what.part is not None else None,
                requirement_kinds=sorted(
                    {requirement_kinds.get(r, "") for r in task.requirement_ids} - {""}
                ),
                spec_hash=plan.spec_hash,
                spec_name=plan.spec_name,
                run_id=run_id,
                uses=1,
                successes=1,
                last_used=stamp,
            )
            node = NodeRef("Pattern", key)
            await graph.merge_node(node, pattern.properties())
            task_node = NodeRef("Task", task_key(plan.spec_name, task))
            await graph.merge_node(task_node, {"kind": task.kind, "title": task.title})
            await graph.merge_relation(node, "IMPLEMENTS", task_node)
            await graph.merge_relation(node, "FROM_RUN", run)
            for requirement in task.requirement_ids:
                requirement_node = NodeRef("Requirement", f"{plan.spec_name}:{requirement}")
                await graph.merge_relation(task_node, "SATISFIES", requirement_node)
            new.append((key, description, {"kind": task.kind, "subject": task.subject}))
            stored += 1
            await self._prune(task_node)
        for source, target in plan.edges:
            if source in tasks and target in tasks:
                await graph.merge_relation(
                    NodeRef("Task", task_key(plan.spec_name, tasks[source])),
                    "DEPENDS_ON",
                    NodeRef("Task", task_key(plan.spec_name, tasks[target])),
                )
        # one batch: a model embeds many texts at little more than the cost of one
        vectors = self.embedder.embed([description for _, description, _ in new]) if new else []
        points = [
            VectorPoint(key, vector, payload)
            for (key, _, payload), vector in zip(new, vectors, strict=True)
        ]
        await self.backends.vectors.upsert(self.collection, points)
        await self._persist()
        return Learned(stored, updated)

    async def _prune(self, task_node: NodeRef) -> None:
        """Keep the `KEEP_PER_TASK` most recently used patterns of a task."""
        graph = self.backends.graph
        found = await graph.neighbours(task_node, relations=("IMPLEMENTS",), direction="in")
        patterns = [n for n in found if n.node.label == "Pattern"]
        if len(patterns) <= KEEP_PER_TASK:
            return
        patterns.sort(key=lambda n: (str(n.properties.get("last_used", "")), n.node.id))
        dropped = [n.node.id for n in patterns[: len(patterns) - KEEP_PER_TASK]]
        for pattern in dropped:
            await graph.delete_node(NodeRef("Pattern", pattern))
        await self.backends.vectors.delete(self.collection, dropped)

    async def failed(self, plan: Plan, task_ids: Sequence[str]) -> int:
        """Count a failure against the patterns of these tasks (a run whose findings
        they caused); how many patterns there were."""
        tasks = {task.id: task for task in plan.tasks}
        counted = 0
        for task_id in task_ids:
            task = tasks.get(task_id)
            if task is None:
                continue
            key = pattern_id(task, self.fingerprint)
            known = await self.get(key)
            if known is None:
                continue
            await self.backends.graph.merge_node(
                NodeRef("Pattern", key),
                {"uses": known.uses + 1, "failures": known.failures + 1, "last_used": now()},
            )
            counted += 1
        await self._persist()
        return counted


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the pattern graph could not be written", exc_info=task.exception())


def task_key(spec_name: str, task: Task) -> str:
    """A task's node id in the graph: the spec's name, the task's kind and subject."""
    return f"{spec_name}:{task.kind}:{task.subject}"
