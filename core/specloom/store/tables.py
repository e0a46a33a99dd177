"""The run store's tables, as SQLAlchemy 2 declarative models.

Portable types only (String, Text, Integer, Float, LargeBinary, JSON and timezone-aware
DateTime), so one migration serves SQLite and PostgreSQL. The migration in
`migrations/versions/` creates exactly these tables; a contract test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in as UTC and always comes back timezone-aware in UTC.

    PostgreSQL keeps `timestamptz`; SQLite keeps the UTC wall time as text. A naive
    datetime is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _run_fk() -> ForeignKey:
    return ForeignKey("runs.id", ondelete="CASCADE")


class SpecRow(Base):
    """A spec's content, once per content hash."""

    __tablename__ = "specs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (Index(None, "workspace", "created_at"), Index(None, "created_at"))

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace: Mapped[str] = mapped_column(String)
    spec_path: Mapped[str] = mapped_column(String)
    spec_hash: Mapped[str] = mapped_column(String)
    out_dir: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[str] = mapped_column(Text)
    failed_task: Mapped[str] = mapped_column(String)
    resumed_from: Mapped[str] = mapped_column(String)


class PlanRow(Base):
    """A run's plan, as the JSON of `Plan`."""

    __tablename__ = "plans"

    run_id: Mapped[str] = mapped_column(String, _run_fk(), primary_key=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TaskRow(Base):
    """One task of a run, keyed by run and task id; `id` keeps the order tasks arrived in."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("run_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String, _run_fk())
    task_id: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    level: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String)
    attempts: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    duration_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text)
    outputs: Mapped[list[str]] = mapped_column(JSON)


class WaveRow(Base):
    """One parallel level of a run's plan: the tasks that can run together."""

    __tablename__ = "waves"

    run_id: Mapped[str] = mapped_column(String, _run_fk(), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    task_ids: Mapped[list[str]] = mapped_column(JSON)


class PhaseRow(Base):
    __tablename__ = "phase_results"

    run_id: Mapped[str] = mapped_column(String, _run_fk(), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    duration_ms: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class ValidationRow(Base):
    __tablename__ = "validation_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String, _run_fk(), index=True)
    kind: Mapped[str] = mapped_column(String)
    message: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(String)
    requirement_id: Mapped[str] = mapped_column(String)
    severity: Mapped[str] = mapped_column(String)
    range: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    spec_range: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditRow(Base):
    """What happened, when; `run_id` is not a foreign key, so the log outlives runs."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String, index=True)
    action: Mapped[str] = mapped_column(String)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class LLMUsageRow(Base):
    """One language-model call of a run (see `store.usage.LLMUsageRecord`)."""

    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String, _run_fk(), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    model: Mapped[str] = mapped_column(String)
    purpose: Mapped[str] = mapped_column(String)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cache_creation_input_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_input_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
