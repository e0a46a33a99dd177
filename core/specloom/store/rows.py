"""Records to row values and rows back to records.

JSON columns get JSON-safe values (`to_jsonable_python`), so a detail holding a path or
a datetime is stored as its JSON form rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from specloom.pipeline.records import (
    PhaseRecord,
    RunRecord,
    TaskRecord,
    ValidationRecord,
)
from specloom.store.tables import PhaseRow, RunRow, TaskRow

RecordT = TypeVar("RecordT", bound=BaseModel)

RUN_OWN_FIELDS = frozenset(RunRecord.model_fields) - {"phases", "tasks"}


def run_values(run: RunRecord) -> dict[str, Any]:
    """The run's own fields (not its phases and tasks)."""
    return run.model_dump(include=set(RUN_OWN_FIELDS))


def phase_values(run_id: str, phase: PhaseRecord) -> dict[str, Any]:
    values = phase.model_dump()
    values["detail"] = to_jsonable_python(phase.detail)
    return {"run_id": run_id, **values}


def task_values(run_id: str, task: TaskRecord) -> dict[str, Any]:
    return {"run_id": run_id, **task.model_dump()}


def validation_values(run_id: str, finding: ValidationRecord) -> dict[str, Any]:
    return {"run_id": run_id, **finding.model_dump()}


def jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = to_jsonable_python(detail)
    return value


def record(model: type[RecordT], row: object) -> RecordT:
    """The record `model` built from the same-named attributes of `row`."""
    return model.model_validate({name: getattr(row, name) for name in model.model_fields})


def run_record(row: RunRow, phases: Iterable[PhaseRow], tasks: Iterable[TaskRow]) -> RunRecord:
    values = {name: getattr(row, name) for name in RUN_OWN_FIELDS}
    values["phases"] = [record(PhaseRecord, phase) for phase in phases]
    values["tasks"] = [record(TaskRecord, task) for task in tasks]
    return RunRecord.model_validate(values)
