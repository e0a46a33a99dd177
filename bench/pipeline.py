"""The orchestrator's own overhead per task.

Runs the whole pipeline on the synthetic spec of `bench.plan` (60 entities, 800
endpoints) with a phase 6 whose tasks do nothing, so phase 6's time is what the
orchestrator spends per task: scheduling by level, events, records. Measured
twice: with a store that keeps records in memory (the orchestrator alone), and
with the default SQLite run store (what a real run pays, two writes per task).
Target: under 1 ms per task for the orchestrator alone.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import Phase, RunContext
from specloom.pipeline.phases import TaskPhase, default_phases
from specloom.pipeline.records import (
    PhaseRecord,
    RunRecord,
    TaskRecord,
    ValidationRecord,
)
from specloom.pipeline.scheduler import TaskContext
from specloom.plan.model import Plan, Task
from specloom.store.base import RunStore
from specloom.store.urls import open_store

from bench import stats
from bench.plan import synthetic_spec


class NoWork(TaskPhase):
    number, key, name = 6, "codegen", "tasks that do nothing"

    async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
        return []


class MemoryStore:
    """Records kept in dictionaries: no I/O, so only the orchestrator is measured."""

    def __init__(self) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.specs: dict[str, bytes] = {}
        self.plans: dict[str, Plan] = {}

    async def init(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def save_spec(self, path: str, content: bytes) -> str:
        import hashlib

        digest = hashlib.sha256(content).hexdigest()
        self.specs[digest] = content
        return digest

    async def get_spec(self, content_hash: str) -> bytes | None:
        return self.specs.get(content_hash)

    async def create_run(self, run: RunRecord) -> None:
        self.runs[run.id] = run.model_copy(deep=True)

    async def save_run(self, run: RunRecord) -> None:
        self.runs[run.id] = run.model_copy(deep=True)

    async def save_phase(self, run_id: str, phase: PhaseRecord) -> None:
        return None

    async def save_task(self, run_id: str, task: TaskRecord) -> None:
        return None

    async def save_tasks(self, run_id: str, tasks: Sequence[TaskRecord]) -> None:
        return None

    async def list_validations(self, run_id: str) -> list[ValidationRecord]:
        return []

    async def save_plan(self, run_id: str, plan: Plan) -> None:
        self.plans[run_id] = plan

    async def load_plan(self, run_id: str) -> Plan | None:
        return self.plans.get(run_id)

    async def save_validation(self, run_id: str, finding: ValidationRecord) -> None:
        return None

    async def audit(self, run_id: str | None, action: str, detail: dict[str, Any]) -> None:
        return None

    async def get_run(self, run_id: str) -> RunRecord | None:
        return self.runs.get(run_id)

    async def list_runs(self, workspace: str | None = None, limit: int = 20) -> list[RunRecord]:
        return list(self.runs.values())[:limit]


def phases() -> list[Phase]:
    registered = default_phases()
    registered[5] = NoWork()
    return registered


async def one_run(store: RunStore, workspace: Path, spec: Path) -> tuple[float, int]:
    orchestrator = Orchestrator(store, phases())
    run = await orchestrator.run(spec, workspace / "out", workspace)
    phase = run.phase(6)
    assert phase is not None
    assert phase.status == "passed", phase
    return phase.duration_ms or 0.0, len(run.tasks)


async def measure(kind: str, runs: int, workspace: Path, spec: Path) -> tuple[float, float, int]:
    per_task: list[float] = []
    tasks = 0
    for _ in range(runs):
        store: RunStore = MemoryStore() if kind == "memory" else await open_store(None, workspace)
        try:
            duration, tasks = await one_run(store, workspace, spec)
        finally:
            await store.close()
        per_task.append(duration / tasks)
    return stats.median(per_task), stats.p95(per_task), tasks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pipeline", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per store (default 5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        workspace = Path(directory)
        spec = workspace / "synthetic.spec.md"
        spec.write_text(synthetic_spec())
        started = time.perf_counter()
        rows = [
            ("memory", *asyncio.run(measure("memory", args.runs, workspace, spec))),
            ("sqlite", *asyncio.run(measure("sqlite", args.runs, workspace, spec))),
        ]
        elapsed = time.perf_counter() - started
    print(f"{'store':<8} {'tasks':>6} {'median ms/task':>15} {'p95 ms/task':>12}")
    for kind, median, p95, tasks in rows:
        print(f"{kind:<8} {tasks:>6} {median:>15.3f} {p95:>12.3f}")
    memory_median = rows[0][1]
    verdict = "met" if memory_median < 1.0 else "missed"
    print(
        f"target: orchestrator overhead under 1 ms per task: {verdict} "
        f"({memory_median:.3f} ms in memory; {rows[1][1]:.3f} ms with the SQLite run store) "
        f"[{args.runs} runs each, {elapsed:.1f} s]"
    )
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
