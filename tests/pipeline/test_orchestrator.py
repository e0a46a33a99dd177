"""The orchestrator as a caller sees it: the run record, the events, the output
directory, cancellation, failures, retries, resume and the workspace lock."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slow_pipeline import SlowGeneration
from specloom.pipeline.cancel import CancelToken
from specloom.pipeline.events import RunEvent
from specloom.pipeline.lock import WorkspaceBusy, WorkspaceLock
from specloom.pipeline.orchestrator import Orchestrator, RunError
from specloom.pipeline.phase import Phase, PipelineSettings, RunContext
from specloom.pipeline.phases import TaskPhase, default_phases
from specloom.pipeline.scheduler import RetryableError, RetryPolicy, TaskContext
from specloom.plan.model import Task
from specloom.store.sql import SqlRunStore
from specloom.store.urls import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAST = PipelineSettings(concurrency=4, retry=RetryPolicy(attempts=3, base_delay=0.001))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlRunStore]:
    opened = await open_store(None, tmp_path / "ws")
    yield opened
    await opened.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    shutil.copy(EXAMPLES / "library.spec.md", ws / "library.spec.md")
    return ws


def tree(directory: Path) -> dict[str, str]:
    if not directory.exists():
        return {}
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def with_phase_six(phase: Phase) -> list[Phase]:
    phases = default_phases()
    phases[5] = phase
    return phases


async def test_a_run_passes_phases_one_to_six_and_is_incomplete_without_the_rest(
    store: SqlRunStore, workspace: Path
) -> None:
    events: list[RunEvent] = []
    orchestrator = Orchestrator(store, settings=FAST)
    orchestrator.bus.subscribe(events.append)
    run = await orchestrator.run(workspace / "library.spec.md", workspace / "out", workspace)
    statuses = {phase.number: phase.status for phase in run.phases}
    assert [statuses[n] for n in range(1, 7)] == ["passed"] * 6
    # untrusted (the default): no generated code runs, and the run says it is unverified
    assert [statuses[n] for n in range(7, 11)] == ["skipped"] * 4
    assert statuses[11] == "skipped"  # nothing verified, nothing learned
    assert run.status == "incomplete"
    assert run.error.startswith("not verified: the workspace is not trusted")
    assert "not available" not in run.error  # every phase exists
    written = tree(workspace / "out")
    assert {"plan.json", "plan.md", "app/main.py", "specloom-trace.json"} <= set(written)
    assert "app/services/f8_borrow_a_book.py" in written
    assert "tests/test_f8_borrow_a_book.py" in written
    kinds = [event.kind for event in events]
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    assert kinds.count("phase_started") == 8  # 8 to 10 are skipped without starting
    percents = [event.percent for event in events]
    assert percents == sorted(percents)
    assert percents[-1] == 100.0


async def test_the_run_record_survives_in_the_store(store: SqlRunStore, workspace: Path) -> None:
    run = await Orchestrator(store, settings=FAST).run(
        workspace / "library.spec.md", workspace / "out", workspace
    )
    stored = await store.get_run(run.id)
    assert stored is not None
    assert stored.status == "incomplete"
    assert [p.status for p in stored.phases][:6] == ["passed"] * 6
    assert all(p.duration_ms is not None for p in stored.phases[:6])
    plan = await store.load_plan(run.id)
    assert plan is not None
    assert plan.task("model:Book") is not None


async def test_a_spec_with_errors_fails_at_analysis_and_writes_nothing(
    store: SqlRunStore, workspace: Path
) -> None:
    spec = workspace / "broken.spec.md"
    spec.write_text("# Broken\n\n## Entities\n\n### Book\n- title: strng\n")
    run = await Orchestrator(store, settings=FAST).run(spec, workspace / "out", workspace)
    assert run.status == "failed"
    assert run.phase(2) is not None
    assert run.phase(2).status == "failed"  # type: ignore[union-attr]
    assert "unknown type 'strng'" in run.error
    assert all(p.status == "skipped" for p in run.phases[2:])
    assert tree(workspace / "out") == {}


async def test_a_cancelled_run_leaves_the_output_exactly_as_it_was(
    store: SqlRunStore, workspace: Path, tmp_path: Path
) -> None:
    out = workspace / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    before = tree(out)
    cancel = CancelToken()
    phase = SlowGeneration(tmp_path / "log.txt", delay=0.01)
    orchestrator = Orchestrator(store, with_phase_six(phase), FAST)

    def cancel_after_some_tasks(event: RunEvent) -> None:
        if event.kind == "task_finished":
            cancel.cancel("stop now")

    orchestrator.bus.subscribe(cancel_after_some_tasks)
    run = await orchestrator.run(workspace / "library.spec.md", out, workspace, cancel)
    assert run.status == "cancelled"
    assert run.phase(6).status == "cancelled"  # type: ignore[union-attr]
    assert all(p.status == "cancelled" for p in run.phases[6:])
    assert tree(out) == before


async def test_a_task_that_fails_names_itself_and_its_reason(
    store: SqlRunStore, workspace: Path
) -> None:
    class Failing(TaskPhase):
        number, key, name = 6, "codegen", "code generation (failing)"

        async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
            if task.id == "model:Book":
                raise ValueError("cannot render the Book model")
            return []

    run = await Orchestrator(store, with_phase_six(Failing()), FAST).run(
        workspace / "library.spec.md", workspace / "out", workspace
    )
    assert run.status == "failed"
    assert run.failed_task == "model:Book"
    assert "cannot render the Book model" in run.error
    task = run.task("model:Book")
    assert task is not None
    assert task.status == "failed"
    assert tree(workspace / "out") == {}


async def test_a_retryable_task_error_is_retried(store: SqlRunStore, workspace: Path) -> None:
    attempts: dict[str, int] = {}

    class Flaky(TaskPhase):
        number, key, name = 6, "codegen", "code generation (flaky)"

        async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
            attempts[task.id] = task_ctx.attempt
            if task.id == "app:main" and task_ctx.attempt < 2:
                raise RetryableError("busy")
            return []

    run = await Orchestrator(store, with_phase_six(Flaky()), FAST).run(
        workspace / "library.spec.md", workspace / "out", workspace
    )
    assert run.phase(6).status == "passed"  # type: ignore[union-attr]
    assert attempts["app:main"] == 2
    assert run.task("app:main").attempts == 2  # type: ignore[union-attr]


async def test_resuming_a_failed_run_does_not_redo_the_tasks_already_done(
    store: SqlRunStore, workspace: Path
) -> None:
    runs: list[str] = []
    broken = {"on": True}

    class Once(TaskPhase):
        number, key, name = 6, "codegen", "code generation (once)"

        async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
            runs.append(task.id)
            if task.id == "app:main" and broken["on"]:
                raise ValueError("not yet")
            ctx.staging.write(f"{task.id.replace(':', '_')}.txt", task.id)
            return []

    orchestrator = Orchestrator(store, with_phase_six(Once()), FAST)
    first = await orchestrator.run(workspace / "library.spec.md", workspace / "out", workspace)
    assert first.status == "failed"
    done_before = [t.task_id for t in first.tasks if t.status == "passed"]
    broken["on"] = False
    runs.clear()
    second = await orchestrator.resume(first.id)
    assert second.id == first.id
    assert second.phase(6).status == "passed"  # type: ignore[union-attr]
    assert not set(done_before) & set(runs)
    assert "app:main" in runs
    written = tree(workspace / "out")
    assert "app_main.txt" in written
    assert all(f"{t.replace(':', '_')}.txt" in written for t in done_before)


async def test_resuming_an_unknown_run_says_so(store: SqlRunStore) -> None:
    with pytest.raises(RunError, match="no run nope"):
        await Orchestrator(store).resume("nope")


async def test_a_second_run_on_a_busy_workspace_is_refused(
    store: SqlRunStore, workspace: Path
) -> None:
    lock = WorkspaceLock(workspace)
    lock.acquire("other")
    try:
        with pytest.raises(WorkspaceBusy, match="another Specloom run is in progress"):
            await Orchestrator(store).run(
                workspace / "library.spec.md", workspace / "out", workspace
            )
    finally:
        lock.release()


async def test_a_subscriber_that_raises_does_not_stop_the_run(
    store: SqlRunStore, workspace: Path
) -> None:
    orchestrator = Orchestrator(store, settings=FAST)

    def broken(event: RunEvent) -> None:
        raise RuntimeError("subscriber bug")

    orchestrator.bus.subscribe(broken)
    run = await orchestrator.run(workspace / "library.spec.md", workspace / "out", workspace)
    assert run.status == "incomplete"


async def test_the_run_percentage_reaches_phase_six_while_tasks_run(
    store: SqlRunStore, workspace: Path, tmp_path: Path
) -> None:
    events: list[RunEvent] = []
    orchestrator = Orchestrator(store, with_phase_six(SlowGeneration(tmp_path / "log", 0.0)), FAST)
    orchestrator.bus.subscribe(events.append)
    await orchestrator.run(workspace / "library.spec.md", workspace / "out", workspace)
    task_percents = [e.percent for e in events if e.kind == "task_finished"]
    assert task_percents
    assert 5 / 11 * 100 < task_percents[-1] <= 6 / 11 * 100 + 0.1
    await asyncio.sleep(0)
