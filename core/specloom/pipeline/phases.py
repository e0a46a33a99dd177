"""The 11 phases, registered in order. Phases this version does not have say so.

Phases 1 to 5 are pure functions of the spec (compile, analyse, plan, atomize,
graph); they are cheap, so a resumed run rebuilds their results by running them
again, except the plan, which is read back from the store so that the tasks a
run has already done keep their ids.
"""

from __future__ import annotations

import time
from abc import abstractmethod

from specloom.pipeline.events import (
    PhaseProgressed,
    RunProgressed,
    TaskFinished,
    TaskProgressed,
    TaskStarted,
)
from specloom.pipeline.phase import Phase, PhaseOutcome, RunContext, UnavailablePhase
from specloom.pipeline.records import TaskRecord
from specloom.pipeline.scheduler import TaskContext, TaskFailed, TaskRunner
from specloom.plan.atomizer import atomize
from specloom.plan.dag import assemble_plan
from specloom.plan.model import Task
from specloom.plan.planner import plan_tasks
from specloom.plan.render import plan_json, plan_markdown
from specloom.spec.compiler import analyse_spec, parse_spec
from specloom.store.base import RunStore


class Ingestion(Phase):
    number, key, name = 1, "ingestion", "spec ingestion"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        ctx.ir, ctx.sink = parse_spec(ctx.spec_bytes, str(ctx.spec_path))
        ir = ctx.ir
        return PhaseOutcome(
            "passed",
            f"{len(ir.domain.entities)} entities, {len(ir.api.endpoints)} endpoints, "
            f"{len(ir.behaviour.flows)} flows, {len(ir.behaviour.rules)} rules",
            {"ir_version": ir.ir_version, "name": ir.name},
        )

    async def restore(self, ctx: RunContext) -> None:
        await self.run(ctx)


class Analysis(Phase):
    number, key, name = 2, "analysis", "requirements analysis"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        assert ctx.ir is not None
        analyse_spec(ctx.ir, ctx.sink)
        diagnostics = ctx.diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        detail = {
            "requirements": len(ctx.ir.validation.requirements),
            "errors": len(errors),
            "warnings": sum(d.severity == "warning" for d in diagnostics),
            "diagnostics": [d.model_dump(mode="json") for d in diagnostics[:200]],
        }
        if errors:
            first = errors[0].format(str(ctx.spec_path))
            return PhaseOutcome(
                "failed",
                f"the spec has {len(errors)} error{'s' if len(errors) > 1 else ''} "
                f"(`specloom check` lists them); first: {first}",
                detail,
            )
        return PhaseOutcome("passed", f"{detail['requirements']} requirements", detail)

    async def restore(self, ctx: RunContext) -> None:
        assert ctx.ir is not None
        analyse_spec(ctx.ir, ctx.sink)


class Planning(Phase):
    number, key, name = 3, "planning", "multi-pass planning"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        assert ctx.ir is not None
        ctx.tasks = plan_tasks(ctx.ir)
        return PhaseOutcome("passed", f"{len(ctx.tasks)} tasks")

    async def restore(self, ctx: RunContext) -> None:
        await self.run(ctx)


class Atomization(Phase):
    number, key, name = 4, "atomization", "atomization"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        assert ctx.ir is not None
        ctx.tasks = atomize(ctx.ir, ctx.tasks)
        files = {f.path for t in ctx.tasks if t.atomic for f in t.atomic.produces}
        return PhaseOutcome("passed", f"{len(ctx.tasks)} atomic specs, {len(files)} files")

    async def restore(self, ctx: RunContext) -> None:
        await self.run(ctx)


class Graph(Phase):
    number, key, name = 5, "dag", "DAG construction"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        assert ctx.ir is not None
        plan, diagnostics = assemble_plan(ctx.ir, ctx.tasks, ctx.run.spec_hash)
        for diagnostic in diagnostics:
            ctx.sink.items.append(diagnostic)
        ctx.plan = plan
        await ctx.store.save_plan(ctx.run.id, plan)
        ctx.staging.write("plan.md", plan_markdown(plan))
        ctx.staging.write("plan.json", plan_json(plan))
        detail = {"tasks": len(plan.tasks), "edges": len(plan.edges), "levels": len(plan.levels)}
        if plan.cycles:
            cycles = "; ".join(" -> ".join(cycle) for cycle in plan.cycles)
            return PhaseOutcome("failed", f"the task graph has cycles: {cycles}", detail)
        return PhaseOutcome(
            "passed", f"{len(plan.tasks)} tasks in {len(plan.levels)} levels", detail
        )

    async def restore(self, ctx: RunContext) -> None:
        ctx.plan = await ctx.store.load_plan(ctx.run.id)


class TaskPhase(Phase):
    """A phase that runs every task of the plan through the scheduler. Subclasses say
    what one task does in `perform`; records, events, retries and cancellation are
    handled here."""

    @abstractmethod
    async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
        """Do one task; return the files it wrote (relative to the output directory)."""

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        plan = ctx.plan
        assert plan is not None
        total = max(len(plan.tasks), 1)
        run_id = ctx.run.id
        position = {record.task_id: i for i, record in enumerate(ctx.run.tasks)}

        reported = [ctx.percent(self.number, 0.0)]
        writes = TaskWrites(ctx.store, run_id)

        async def listen(record: TaskRecord, what: str) -> None:
            snapshot = record.model_copy()
            if record.task_id in position:
                ctx.run.tasks[position[record.task_id]] = snapshot
            else:
                position[record.task_id] = len(ctx.run.tasks)
                ctx.run.tasks.append(snapshot)
            if what != "progressed":
                await writes.note(snapshot)
            done = len(ctx.done_tasks) + (what == "finished" and record.status == "passed")
            # tasks run side by side: a start may be heard after a later finish
            percent = max(ctx.percent(self.number, done / total), reported[0])
            reported[0] = percent
            if what == "started":
                event: TaskStarted | TaskProgressed | TaskFinished = TaskStarted(
                    run_id=run_id,
                    phase=self.number,
                    task_id=record.task_id,
                    attempt=record.attempts,
                    percent=percent,
                )
            elif what == "progressed":
                event = TaskProgressed(
                    run_id=run_id,
                    phase=self.number,
                    task_id=record.task_id,
                    message=record.error,
                    percent=percent,
                )
            else:
                event = TaskFinished(
                    run_id=run_id,
                    phase=self.number,
                    task_id=record.task_id,
                    status=record.status,
                    duration_ms=record.duration_ms or 0.0,
                    attempts=record.attempts,
                    error=record.error,
                    percent=percent,
                )
            await ctx.bus.publish(event)
            if what == "finished":
                await ctx.bus.publish(
                    PhaseProgressed(
                        run_id=run_id,
                        phase=self.number,
                        done=done,
                        total=total,
                        message=f"{done}/{total} tasks",
                        percent=percent,
                    )
                )
                await ctx.bus.publish(
                    RunProgressed(run_id=run_id, message=f"{record.task_id}", percent=percent)
                )

        async def handle(task: Task, task_ctx: TaskContext) -> list[str]:
            return await self.perform(task, ctx, task_ctx)

        runner = TaskRunner(
            handler=handle,
            listener=listen,
            cancel=ctx.cancel,
            concurrency=ctx.settings.concurrency,
            retry=ctx.settings.retry,
        )
        try:
            records = await runner.run(plan, ctx.done_tasks)
        except TaskFailed as failure:
            ctx.run.failed_task = failure.task_id
            return PhaseOutcome("failed", str(failure))
        finally:
            await writes.flush()
        return PhaseOutcome("passed", f"{len(records)} tasks run, {len(ctx.done_tasks)} done")


class TaskWrites:
    """Task records on their way to the run store: written together, at most one
    transaction every `interval` seconds while the tasks run (a write per task start and
    finish cost more than rendering the task), the rest when the phase ends."""

    def __init__(self, store: RunStore, run_id: str, interval: float = 0.1) -> None:
        self.store = store
        self.run_id = run_id
        self.interval = interval
        self.pending: dict[str, TaskRecord] = {}
        self.last = 0.0

    async def note(self, record: TaskRecord) -> None:
        self.pending[record.task_id] = record
        if time.monotonic() - self.last >= self.interval:
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        batch = list(self.pending.values())
        self.pending.clear()
        self.last = time.monotonic()
        await self.store.save_tasks(self.run_id, batch)


def _unavailable(number: int, key: str, name: str) -> UnavailablePhase:
    phase_type = type(
        f"Unavailable{key.title()}",
        (UnavailablePhase,),
        {
            "number": number,
            "key": key,
            "name": name,
            "unavailable_reason": f"{name} is not available in this version of Specloom",
        },
    )
    phase = phase_type()
    assert isinstance(phase, UnavailablePhase)
    return phase


def _code_generation() -> Phase:
    # imported here: the code generator builds on this module's TaskPhase
    from specloom.codegen.phase import CodeGeneration

    return CodeGeneration()


def _verify_loop() -> list[Phase]:
    # imported here: the verify phases build on this module's Phase
    from specloom.verify.deploy import Deployment
    from specloom.verify.health import HealthCheck
    from specloom.verify.repair import Repair
    from specloom.verify.validation import Validation

    return [Deployment(), Repair(), Validation(launch_app=True), HealthCheck()]


def _learning() -> Phase:
    from specloom.patterns.learning import Learning

    return Learning()


def default_phases(code_generation: Phase | None = None) -> list[Phase]:
    """The 11 phases in order. A long-lived caller (the language server) passes its own
    `code_generation` phase, which keeps its pattern bank and baselines across runs."""
    return [
        Ingestion(),
        Analysis(),
        Planning(),
        Atomization(),
        Graph(),
        code_generation or _code_generation(),
        *_verify_loop(),
        _learning(),
    ]
