"""`SqlRunStore`: the run store on SQLAlchemy 2 async, SQLite or PostgreSQL.

Every method is one transaction. Writes are single-statement upserts (see `upsert`), so
concurrent writers of different rows never conflict; on SQLite they also take the lock
up front (`BEGIN IMMEDIATE`) and queue in-process, so none fails with "database is
locked". A database that cannot be reached raises `StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from alembic.util import CommandError
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from specloom.pipeline.records import (
    PhaseRecord,
    RunRecord,
    TaskRecord,
    ValidationRecord,
    utc_now,
)
from specloom.plan.model import Plan
from specloom.store import migrate, rows
from specloom.store.audit import AuditEntry
from specloom.store.base import LLMUsageLog, RunStore, StoreUnavailable
from specloom.store.engine import (
    backend_of,
    create_engine_for,
    sqlite_path_problem,
    writer_of,
)
from specloom.store.errors import is_unreachable, mask_url, unavailable
from specloom.store.tables import (
    AuditRow,
    LLMUsageRow,
    PhaseRow,
    PlanRow,
    RunRow,
    SpecRow,
    TaskRow,
    ValidationRow,
    WaveRow,
)
from specloom.store.upsert import upsert
from specloom.store.urls import normalize_url
from specloom.store.usage import LLMUsageRecord, LLMUsageTotals

DEFAULT_CONNECT_TIMEOUT_S = 5.0
# Serializes concurrent migrations on one PostgreSQL database ("SPLM").
_MIGRATION_LOCK_KEY = 0x53504C4D
_PHASE_KEYS = ("run_id", "number")
_TASK_KEYS = ("run_id", "task_id")


class SqlRunStore:
    """The run store at a database URL (`postgresql://` and `sqlite:///` are accepted
    and given their async drivers). Nothing connects before `init()`."""

    def __init__(self, url: str, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
        self.url = normalize_url(url)
        self.connect_timeout = connect_timeout
        self._engine: AsyncEngine | None = None
        self._reader: async_sessionmaker[AsyncSession] | None = None
        self._writer: async_sessionmaker[AsyncSession] | None = None
        self._dialect = ""
        # SQLite has one writer at a time: queue this process's writers here rather
        # than in SQLite's busy handler.
        self._write_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SqlRunStore({mask_url(self.url)!r})"

    # --- lifecycle ------------------------------------------------------------------

    async def init(self) -> None:
        """Connect and bring the schema to the newest migration; safe to call again."""
        engine = self._open_engine()
        try:
            guard = self._write_guard()
            async with migrate.exclusive(), guard, writer_of(engine).begin() as connection:
                if self._dialect == "postgresql":
                    lock = text("SELECT pg_advisory_xact_lock(:key)")
                    await connection.execute(lock, {"key": _MIGRATION_LOCK_KEY})
                await connection.run_sync(migrate.upgrade)
        except (SQLAlchemyError, CommandError, OSError, TimeoutError) as error:
            await self.close()
            raise unavailable(self.url, error) from None

    async def connect(self) -> None:
        """Connect without touching the schema (what `specloom doctor` does: it reads
        the store, never migrates it); `init` is what a run uses."""
        self._open_engine()

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            self._reader = self._writer = None
            await engine.dispose()

    async def schema_revision(self) -> str | None:
        """The migration the database is at (`migrate.head_revision()` after `init`)."""
        async with self._session(write=False) as session:
            connection = await session.connection()
            return await connection.run_sync(migrate.current_revision)

    # --- specs ----------------------------------------------------------------------

    async def save_spec(self, path: str, content: bytes) -> str:
        content_hash = hashlib.sha256(content).hexdigest()
        values = {"hash": content_hash, "path": path, "content": content, "created_at": utc_now()}
        async with self._session(write=True) as session:
            await session.execute(upsert(self._dialect, SpecRow, ["hash"]), values)
        return content_hash

    async def get_spec(self, content_hash: str) -> bytes | None:
        async with self._session(write=False) as session:
            query = select(SpecRow.content).where(SpecRow.hash == content_hash)
            content: bytes | None = await session.scalar(query)
        return content

    # --- runs -----------------------------------------------------------------------

    async def create_run(self, run: RunRecord) -> None:
        """Insert the run with its phases and tasks; a run id already stored is an error."""
        try:
            async with self._session(write=True) as session:
                await session.execute(insert(RunRow), rows.run_values(run))
                if run.phases:
                    phases = [rows.phase_values(run.id, phase) for phase in run.phases]
                    await session.execute(insert(PhaseRow), phases)
                if run.tasks:
                    tasks = [rows.task_values(run.id, task) for task in run.tasks]
                    await session.execute(insert(TaskRow), tasks)
        except IntegrityError:
            raise ValueError(f"run {run.id!r} is already in the store") from None

    async def save_run(self, run: RunRecord) -> None:
        """Write the run's own fields (inserting the run if it is not stored yet)."""
        values = rows.run_values(run)
        statement = upsert(self._dialect, RunRow, ["id"], [k for k in values if k != "id"])
        async with self._session(write=True) as session:
            await session.execute(statement, values)

    async def save_phase(self, run_id: str, phase: PhaseRecord) -> None:
        values = rows.phase_values(run_id, phase)
        columns = [k for k in values if k not in _PHASE_KEYS]
        async with self._run_session(run_id) as session:
            await session.execute(upsert(self._dialect, PhaseRow, _PHASE_KEYS, columns), values)

    async def save_task(self, run_id: str, task: TaskRecord) -> None:
        values = rows.task_values(run_id, task)
        columns = [k for k in values if k not in _TASK_KEYS]
        async with self._run_session(run_id) as session:
            await session.execute(upsert(self._dialect, TaskRow, _TASK_KEYS, columns), values)

    async def save_tasks(self, run_id: str, tasks: Sequence[TaskRecord]) -> None:
        if not tasks:
            return
        values = [rows.task_values(run_id, task) for task in tasks]
        columns = [k for k in values[0] if k not in _TASK_KEYS]
        async with self._run_session(run_id) as session:
            await session.execute(upsert(self._dialect, TaskRow, _TASK_KEYS, columns), values)

    async def get_run(self, run_id: str) -> RunRecord | None:
        async with self._session(write=False) as session:
            row = await session.get(RunRow, run_id)
            if row is None:
                return None
            phases, tasks = await self._children(session, [run_id])
        return rows.run_record(row, phases[run_id], tasks[run_id])

    async def list_runs(self, workspace: str | None = None, limit: int = 20) -> list[RunRecord]:
        """Newest first (by `created_at`), with their phases and tasks."""
        query = select(RunRow).order_by(RunRow.created_at.desc(), RunRow.id.desc())
        if workspace is not None:
            query = query.where(RunRow.workspace == workspace)
        async with self._session(write=False) as session:
            found = list(await session.scalars(query.limit(max(limit, 0))))
            phases, tasks = await self._children(session, [row.id for row in found])
        return [rows.run_record(row, phases[row.id], tasks[row.id]) for row in found]

    # --- plans ----------------------------------------------------------------------

    async def save_plan(self, run_id: str, plan: Plan) -> None:
        """Keep the plan's JSON, one task row per plan task (a task already stored keeps
        its status and attempts; only its kind and level follow the plan) and one wave
        per level (replacing the previous plan's). Rows of tasks the plan no longer has
        are dropped while they are still pending."""
        plan_json = plan.model_dump(mode="json")
        plan_values = {"run_id": run_id, "plan": plan_json, "saved_at": utc_now()}
        task_values = [
            rows.task_values(run_id, TaskRecord(task_id=task.id, kind=task.kind, level=task.level))
            for task in plan.tasks
        ]
        waves = [
            {"run_id": run_id, "level": level, "task_ids": list(task_ids)}
            for level, task_ids in enumerate(plan.levels)
        ]
        async with self._run_session(run_id) as session:
            statement = upsert(self._dialect, PlanRow, ["run_id"], ["plan", "saved_at"])
            await session.execute(statement, plan_values)
            stale = delete(TaskRow).where(
                TaskRow.run_id == run_id,
                TaskRow.status == "pending",
                TaskRow.task_id.not_in([task.id for task in plan.tasks]),
            )
            await session.execute(stale)
            if task_values:
                statement = upsert(self._dialect, TaskRow, _TASK_KEYS, ["kind", "level"])
                await session.execute(statement, task_values)
            await session.execute(delete(WaveRow).where(WaveRow.run_id == run_id))
            if waves:
                await session.execute(insert(WaveRow), waves)

    async def load_plan(self, run_id: str) -> Plan | None:
        async with self._session(write=False) as session:
            data = await session.scalar(select(PlanRow.plan).where(PlanRow.run_id == run_id))
        return None if data is None else Plan.model_validate(data)

    # --- findings, audit -----------------------------------------------------------

    async def save_validation(self, run_id: str, finding: ValidationRecord) -> None:
        values = {**rows.validation_values(run_id, finding), "at": utc_now()}
        async with self._run_session(run_id) as session:
            await session.execute(insert(ValidationRow), values)

    async def audit(self, run_id: str | None, action: str, detail: dict[str, Any]) -> None:
        values = {"run_id": run_id, "action": action, "detail": rows.jsonable(detail)}
        async with self._session(write=True) as session:
            await session.execute(insert(AuditRow), {**values, "at": utc_now()})

    async def list_validations(self, run_id: str) -> list[ValidationRecord]:
        """A run's validation findings, in the order they were saved."""
        query = select(ValidationRow).where(ValidationRow.run_id == run_id)
        async with self._session(write=False) as session:
            found = await session.scalars(query.order_by(ValidationRow.id))
            return [rows.record(ValidationRecord, row) for row in found]

    # --- language-model usage -------------------------------------------------------

    async def add_llm_usage(self, run_id: str, usage: LLMUsageRecord) -> None:
        """Keep one language-model call of the run `run_id` (which must exist)."""
        async with self._run_session(run_id) as session:
            await session.execute(insert(LLMUsageRow), {"run_id": run_id, **usage.model_dump()})

    async def list_llm_usage(self, run_id: str) -> list[LLMUsageRecord]:
        """A run's language-model calls, in the order they were added."""
        query = select(LLMUsageRow).where(LLMUsageRow.run_id == run_id).order_by(LLMUsageRow.id)
        async with self._session(write=False) as session:
            return [rows.record(LLMUsageRecord, row) for row in await session.scalars(query)]

    async def llm_usage_totals(self, run_id: str) -> LLMUsageTotals:
        """The sums of a run's language-model calls (zeros when it made none)."""
        sums = [
            func.coalesce(func.sum(getattr(LLMUsageRow, name)), 0).label(name)
            for name in LLMUsageTotals.model_fields
            if name != "calls"
        ]
        query = select(func.count(LLMUsageRow.id).label("calls"), *sums).where(
            LLMUsageRow.run_id == run_id
        )
        async with self._session(write=False) as session:
            found = (await session.execute(query)).one()
        return LLMUsageTotals.model_validate(found._asdict())

    async def list_audit(self, run_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The last `limit` audit entries (of one run, or of all), oldest first."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(max(limit, 0))
        if run_id is not None:
            query = query.where(AuditRow.run_id == run_id)
        async with self._session(write=False) as session:
            found = [rows.record(AuditEntry, row) for row in await session.scalars(query)]
        return found[::-1]

    # --- plumbing -------------------------------------------------------------------

    def _open_engine(self) -> AsyncEngine:
        if self._engine is not None:
            return self._engine
        try:
            self._dialect = backend_of(self.url)
            problem = sqlite_path_problem(self.url) if self._dialect == "sqlite" else None
            if problem:
                raise StoreUnavailable(f"run store unavailable at {mask_url(self.url)}: {problem}")
            engine = create_engine_for(self.url, connect_timeout=self.connect_timeout)
        except (SQLAlchemyError, ValueError, ImportError) as error:
            raise unavailable(self.url, error) from None
        self._engine = engine
        self._reader = async_sessionmaker(engine, expire_on_commit=False)
        self._writer = async_sessionmaker(writer_of(engine), expire_on_commit=False)
        return engine

    def _write_guard(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if self._dialect == "sqlite":
            return self._write_lock
        return contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def _session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """One transaction; a lost or unreachable database becomes `StoreUnavailable`."""
        maker = self._writer if write else self._reader
        if maker is None:
            raise RuntimeError(f"{self!r} is not open: call init() first")
        try:
            guard = self._write_guard() if write else contextlib.nullcontext()
            async with guard, maker.begin() as session:
                yield session
        except Exception as error:
            if is_unreachable(error):
                raise unavailable(self.url, error) from None
            raise

    @contextlib.asynccontextmanager
    async def _run_session(self, run_id: str) -> AsyncIterator[AsyncSession]:
        """A writing transaction on rows that belong to the run `run_id`, which must exist."""
        try:
            async with self._session(write=True) as session:
                yield session
        except IntegrityError:
            raise LookupError(f"no run {run_id!r} in the store") from None

    @staticmethod
    async def _children(
        session: AsyncSession, run_ids: Sequence[str]
    ) -> tuple[dict[str, list[PhaseRow]], dict[str, list[TaskRow]]]:
        phases: dict[str, list[PhaseRow]] = defaultdict(list)
        tasks: dict[str, list[TaskRow]] = defaultdict(list)
        if run_ids:
            phase_query = select(PhaseRow).where(PhaseRow.run_id.in_(run_ids))
            for phase in await session.scalars(phase_query.order_by(PhaseRow.number)):
                phases[phase.run_id].append(phase)
            task_query = select(TaskRow).where(TaskRow.run_id.in_(run_ids))
            for task in await session.scalars(task_query.order_by(TaskRow.id)):
                tasks[task.run_id].append(task)
        return phases, tasks


if TYPE_CHECKING:
    # mypy checks it against the Protocols
    _IMPLEMENTS: type[RunStore] = SqlRunStore
    _LOGS_USAGE: type[LLMUsageLog] = SqlRunStore
