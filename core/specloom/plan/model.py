"""The plan: atomic tasks with semantic signatures, and their dependency graph.

Pure data (pydantic), so a plan serializes to `plan.json`, compares and diffs.
Phase 3 makes the tasks, phase 4 gives each its atomic spec, phase 5 the edges and
the parallel levels.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

TaskKind = Literal[
    "model",  # an entity's SQLAlchemy model
    "schemas",  # an entity's create/update/read schemas
    "repository",  # an entity's data access
    "endpoint",  # one HTTP operation
    "flow",  # one flow's service function
    "rule",  # one invariant's check
    "tests",  # one test module
    "app",  # the application shell (database, errors, main)
    "infra",  # requirements, Dockerfile, compose file, README
]


class SemanticSignature(BaseModel):
    """What a task is, in the terms that decide what it must produce.

    `constraints` holds the canonical text of the spec content the task depends on
    (without source positions), so the signature, and its hash, change exactly when
    that content changes.
    """

    model_config = ConfigDict(frozen=True)

    purpose: str
    inputs: list[str] = PydanticField(default_factory=list)
    outputs: list[str] = PydanticField(default_factory=list)
    domain: list[str] = PydanticField(default_factory=list)
    constraints: list[str] = PydanticField(default_factory=list)


class ProducedFile(BaseModel):
    """A file a task writes (or its part of a shared file) and the symbols it defines."""

    path: str
    symbols: list[str] = PydanticField(default_factory=list)


class AtomicSpec(BaseModel):
    """What one task produces and needs: the contract phase 6 generates against."""

    produces: list[ProducedFile] = PydanticField(default_factory=list)
    needs: list[str] = PydanticField(default_factory=list)
    implements: list[str] = PydanticField(default_factory=list)


class Task(BaseModel):
    """One unit of work a developer would name: 'the Book model', 'endpoint F8'."""

    id: str
    kind: TaskKind
    title: str
    subject: str
    signature: SemanticSignature
    signature_hash: str
    requirement_ids: list[str] = PydanticField(default_factory=list)
    atomic: AtomicSpec | None = None
    depends_on: list[str] = PydanticField(default_factory=list)
    level: int | None = None


class Plan(BaseModel):
    """Every task of one spec, their edges (task -> task it depends on) and levels."""

    spec_name: str = ""
    spec_hash: str = ""
    ir_version: str = "1"
    tasks: list[Task] = PydanticField(default_factory=list)
    edges: list[tuple[str, str]] = PydanticField(default_factory=list)
    levels: list[list[str]] = PydanticField(default_factory=list)
    cycles: list[list[str]] = PydanticField(default_factory=list)

    def task(self, task_id: str) -> Task | None:
        for candidate in self.tasks:
            if candidate.id == task_id:
                return candidate
        return None
