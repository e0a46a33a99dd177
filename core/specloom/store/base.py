"""The run store's interface: one per role, the implementation chosen by configuration.

`SqlRunStore` (SQLAlchemy 2 async) implements it on SQLite (the default, under the
workspace's `.specloom/`) and on PostgreSQL (asyncpg).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from specloom.pipeline.records import (
    PhaseRecord,
    RunRecord,
    TaskRecord,
    ValidationRecord,
)
from specloom.plan.model import Plan
from specloom.store.usage import LLMUsageRecord, LLMUsageTotals


class StoreUnavailable(Exception):
    """The store cannot be reached or opened; the message says which and why."""


class RunStore(Protocol):
    async def init(self) -> None:
        """Connect and bring the schema up to date (Alembic migrations)."""

    async def close(self) -> None: ...

    async def save_spec(self, path: str, content: bytes) -> str:
        """Store a spec's content once per content hash; returns the hash (sha256 hex)."""

    async def get_spec(self, content_hash: str) -> bytes | None: ...

    async def create_run(self, run: RunRecord) -> None: ...

    async def save_run(self, run: RunRecord) -> None:
        """Update the run's own fields (status, times, error, failed task)."""

    async def save_phase(self, run_id: str, phase: PhaseRecord) -> None:
        """Insert or update the phase record (by run and phase number)."""

    async def save_task(self, run_id: str, task: TaskRecord) -> None:
        """Insert or update the task record (by run and task id)."""

    async def save_tasks(self, run_id: str, tasks: Sequence[TaskRecord]) -> None:
        """`save_task` for several records, in one transaction."""

    async def save_plan(self, run_id: str, plan: Plan) -> None:
        """Keep the plan of a run: its JSON, one row per task and one per wave (level)."""

    async def load_plan(self, run_id: str) -> Plan | None: ...

    async def save_validation(self, run_id: str, finding: ValidationRecord) -> None: ...

    async def list_validations(self, run_id: str) -> list[ValidationRecord]:
        """A run's validation findings, in the order they were saved."""
        ...

    async def audit(self, run_id: str | None, action: str, detail: dict[str, Any]) -> None: ...

    async def get_run(self, run_id: str) -> RunRecord | None:
        """The run with its phases and tasks, or None."""

    async def list_runs(self, workspace: str | None = None, limit: int = 20) -> list[RunRecord]:
        """Newest first."""


class LLMUsageLog(Protocol):
    """Where a run's language-model calls are kept (`SqlRunStore` is one); the language
    model's recorder writes to it (`specloom.llm.recording`)."""

    async def add_llm_usage(self, run_id: str, usage: LLMUsageRecord) -> None:
        """Keep one call of the run `run_id`; raises LookupError when there is no such run."""

    async def list_llm_usage(self, run_id: str) -> list[LLMUsageRecord]:
        """A run's calls, in the order they were added."""
        ...

    async def llm_usage_totals(self, run_id: str) -> LLMUsageTotals:
        """The sums of a run's calls (zeros when it made none)."""
        ...
