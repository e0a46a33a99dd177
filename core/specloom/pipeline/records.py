"""What a run leaves behind: the run record, one record per phase and per task.

The orchestrator fills these in as it goes and hands them to the run store after
every change, so a run killed at any point can be read back and resumed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField

RunStatus = Literal["pending", "running", "passed", "failed", "cancelled", "incomplete"]
PhaseStatus = Literal[
    "pending", "running", "passed", "failed", "cancelled", "skipped", "unavailable"
]
TaskStatus = Literal["pending", "running", "passed", "failed", "cancelled", "skipped"]


def utc_now() -> datetime:
    return datetime.now(UTC)


class PhaseRecord(BaseModel):
    """One of the 11 phases in one run. `unavailable` means the phase does not exist yet
    in this version; it is never counted as passed."""

    number: int
    key: str
    name: str
    status: PhaseStatus = "pending"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    message: str = ""
    detail: dict[str, Any] = PydanticField(default_factory=dict)


class TaskRecord(BaseModel):
    """One task of the plan in one run."""

    task_id: str
    kind: str = ""
    level: int | None = None
    status: TaskStatus = "pending"
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    error: str = ""
    outputs: list[str] = PydanticField(default_factory=list)


class ValidationRecord(BaseModel):
    """A finding of the verify loop as the run store keeps it: `kind` is "check:kind"
    (`tests:test-failed`), `range` the 0-based range in `file` (relative to the app),
    `spec_range` the range of the requirement in the spec; both ranges as LSP writes
    them ({"start": {"line", "character"}, "end": ...})."""

    kind: str
    message: str
    file: str = ""
    requirement_id: str = ""
    severity: str = "error"
    range: dict[str, Any] | None = None
    spec_range: dict[str, Any] | None = None


class Tokens(BaseModel):
    """Tokens as the Messages API counts them. `input_tokens` excludes the prompt tokens
    written to (`cache_creation_input_tokens`) or read from (`cache_read_input_tokens`)
    the prompt cache, which are counted (and priced) apart."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Every token: input (fresh, cache written, cache read) and output."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )


class RunRecord(BaseModel):
    """One run of the pipeline over one spec."""

    id: str
    workspace: str
    spec_path: str
    spec_hash: str = ""
    out_dir: str = ""
    status: RunStatus = "pending"
    created_at: datetime = PydanticField(default_factory=utc_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str = ""
    failed_task: str = ""
    resumed_from: str = ""
    phases: list[PhaseRecord] = PydanticField(default_factory=list)
    tasks: list[TaskRecord] = PydanticField(default_factory=list)

    def phase(self, number: int) -> PhaseRecord | None:
        for record in self.phases:
            if record.number == number:
                return record
        return None

    def task(self, task_id: str) -> TaskRecord | None:
        for record in self.tasks:
            if record.task_id == task_id:
                return record
        return None

    @property
    def last_completed_phase(self) -> int:
        """The highest phase number such that it and every phase before it passed."""
        done = 0
        for record in sorted(self.phases, key=lambda r: r.number):
            if record.status != "passed":
                break
            done = record.number
        return done
