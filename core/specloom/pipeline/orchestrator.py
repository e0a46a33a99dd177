"""The orchestrator: runs the 11 phases of one spec in order, records every step in
the run store, publishes events, honours cancellation, and resumes a run that was
cut short from its last completed phase.

It knows phases only through the Phase interface, and one rule of the product: phases
8 to 10 form a loop. Validation (9) and health (10) run even when the one before failed;
after a pass with failures, the repair phase (8) says where to go back to (`loop_back`),
until the app is clean or repair is out of attempts. Only then does a failure of 9 or
10 fail the run.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from specloom.pipeline.cancel import Cancelled, CancelToken
from specloom.pipeline.events import (
    EventBus,
    PhaseFinished,
    PhaseStarted,
    RunFinished,
    RunStarted,
)
from specloom.pipeline.lock import SharedLock, WorkspaceLock
from specloom.pipeline.phase import Mode, Phase, PhaseOutcome, PipelineSettings, RunContext
from specloom.pipeline.records import PhaseRecord, RunRecord, utc_now
from specloom.pipeline.staging import CommitResult, Committer, Conflict, Staging
from specloom.runcontext import RUN_ID
from specloom.store.audit import AuditEntry
from specloom.store.base import RunStore

log = logging.getLogger(__name__)

REPAIR, VALIDATION, HEALTH = 8, 9, 10  # the verify loop
DEPLOYMENT = 7


class RunError(Exception):
    """A run cannot start or resume; the message says why and what to do."""


def run_directory(workspace: Path, run_id: str) -> Path:
    return workspace / ".specloom" / "runs" / run_id


class Orchestrator:
    def __init__(
        self,
        store: RunStore,
        phases: Sequence[Phase] | None = None,
        settings: PipelineSettings | None = None,
        bus: EventBus | None = None,
        committer: Committer | None = None,
        overwrite: bool = False,
    ) -> None:
        """`committer` applies a run's changes to the output directory (default: atomic
        writes); `overwrite` replaces files the user edited since they were generated
        (default: they are kept, and reported as conflicts)."""
        if phases is None:
            from specloom.pipeline.phases import default_phases

            phases = default_phases()
        numbers = [phase.number for phase in phases]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise ValueError(f"phases must be registered once each, in order: {numbers}")
        self.store = store
        self.phases = list(phases)
        self.settings = settings or PipelineSettings()
        self.bus = bus or EventBus()
        self.committer = committer
        self.overwrite = overwrite
        self.commits: dict[str, CommitResult] = {}
        """What the commit of each run (by id) did to the output directory."""

    # --- starting -------------------------------------------------------------------

    async def run(
        self,
        spec_path: Path,
        out_dir: Path,
        workspace: Path | None = None,
        cancel: CancelToken | None = None,
        mode: Mode = "generate",
    ) -> RunRecord:
        """Run every phase on a spec; returns the finished run record. `mode` "validate":
        phase 6 renders the reference tree without writing it, and phases 7 to 10 verify
        (and repair) the app already in `out_dir`."""
        spec_path = spec_path.resolve()
        workspace = (workspace or Path.cwd()).resolve()
        try:
            data = spec_path.read_bytes()
        except OSError as error:
            raise RunError(f"cannot read {spec_path}: {error.strerror or error}") from None
        run = RunRecord(
            id=uuid.uuid4().hex[:12],
            workspace=str(workspace),
            spec_path=str(spec_path),
            out_dir=str(out_dir.resolve()),
            phases=[PhaseRecord(number=p.number, key=p.key, name=p.name) for p in self.phases],
        )
        lock = WorkspaceLock(workspace)
        lock.acquire(run.id)
        shared: SharedLock | None = None
        try:
            shared = await SharedLock.acquire(workspace, run.id)
            run.spec_hash = await self.store.save_spec(str(spec_path), data)
            run.status = "running"
            run.started_at = utc_now()
            await self.store.create_run(run)
            await self.store.audit(run.id, "run.started", {"spec": str(spec_path)})
            ctx = self._context(run, data, cancel)
            ctx.mode = mode
            return await self._execute(ctx, first=self.phases[0].number, resumed=False)
        finally:
            if shared is not None:
                await shared.release()
            lock.release()

    async def resume(self, run_id: str, cancel: CancelToken | None = None) -> RunRecord:
        """Go on with a run from its last completed phase; tasks already done stay done."""
        run = await self.store.get_run(run_id)
        if run is None:
            raise RunError(f"no run {run_id} in this store: `specloom runs` lists them")
        if run.status in ("passed", "incomplete"):
            raise RunError(f"run {run_id} already ended ({run.status}): there is nothing to resume")
        data = await self.store.get_spec(run.spec_hash)
        if data is None:
            raise RunError(f"the spec of run {run_id} is no longer in the store")
        lock = WorkspaceLock(Path(run.workspace))
        lock.acquire(run.id)
        shared: SharedLock | None = None
        try:
            shared = await SharedLock.acquire(Path(run.workspace), run.id)
            ctx = self._context(run, data, cancel)
            completed = run.last_completed_phase
            for phase in self.phases:
                if phase.number <= completed:
                    await phase.restore(ctx)
            ctx.done_tasks = {t.task_id for t in run.tasks if t.status == "passed"}
            run.status = "running"
            run.error = ""
            run.failed_task = ""
            run.finished_at = None
            run.resumed_from = str(completed)
            await self.store.save_run(run)
            await self.store.audit(run.id, "run.resumed", {"from_phase": completed})
            first = next((p.number for p in self.phases if p.number > completed), None)
            if first is None:
                return await self._finish(ctx, time.perf_counter())
            return await self._execute(ctx, first=first, resumed=True)
        finally:
            if shared is not None:
                await shared.release()
            lock.release()

    def _context(self, run: RunRecord, data: bytes, cancel: CancelToken | None) -> RunContext:
        workspace = Path(run.workspace)
        out_dir = Path(run.out_dir)
        ctx = RunContext(
            run=run,
            spec_path=Path(run.spec_path),
            spec_bytes=data,
            workspace=workspace,
            out_dir=out_dir,
            staging=Staging(run_directory(workspace, run.id), out_dir),
            cancel=cancel or CancelToken(),
            store=self.store,
            settings=self.settings,
            bus=self.bus,
            percent=self._monotonic_percent(),
        )
        return ctx

    # --- running --------------------------------------------------------------------

    def _monotonic_percent(self) -> Callable[[int, float], float]:
        """A run's percentage: where its phase stands, never going back (the verify loop
        runs phases 8 to 10 again; the bar stays where it was until it passes it)."""
        highest = [0.0]

        def percent(number: int, fraction: float) -> float:
            highest[0] = max(highest[0], self._percent(number, fraction))
            return highest[0]

        return percent

    def _percent(self, number: int, fraction: float) -> float:
        index = next((i for i, p in enumerate(self.phases) if p.number == number), 0)
        return round(100.0 * (index + max(0.0, min(1.0, fraction))) / len(self.phases), 1)

    async def _execute(self, ctx: RunContext, first: int, resumed: bool) -> RunRecord:
        run = ctx.run
        RUN_ID.set(run.id)  # this task's context: the log records of the run name it
        started = time.perf_counter()
        await self.bus.publish(
            RunStarted(
                run_id=run.id,
                spec_path=run.spec_path,
                resumed=resumed,
                percent=ctx.percent(first, 0),
            )
        )
        for phase in self.phases:  # what a phase prepares while the others run
            starting = getattr(phase, "run_started", None)
            if starting is not None:
                try:
                    starting(ctx)
                except Exception:  # never the run's result
                    log.exception("phase %s failed to prepare", phase.key)
        try:
            await self._phases(ctx, first)
        finally:
            await self._clean_up(ctx)
        return await self._finish(ctx, started)

    async def _phases(self, ctx: RunContext, first: int) -> None:
        run = ctx.run
        numbers = [phase.number for phase in self.phases]
        index = next((i for i, n in enumerate(numbers) if n >= first), len(numbers))
        failed_checks: list[tuple[Phase, PhaseOutcome]] = []
        while index < len(self.phases):
            phase = self.phases[index]
            index += 1
            record = run.phase(phase.number)
            assert record is not None
            if run.status != "running":
                record.status = "cancelled" if run.status == "cancelled" else "skipped"
                await self.store.save_phase(run.id, record)
                continue
            if ctx.cancel.cancelled:
                self._cancel(run, ctx.cancel.reason)
                record.status = "cancelled"
                await self.store.save_phase(run.id, record)
                continue
            if REPAIR <= phase.number <= HEALTH and ctx.verify is None and _skipped(run):
                record.status = "skipped"
                record.message = "not run: the app was not deployed (phase 7 was skipped)"
                await self.store.save_phase(run.id, record)
                continue
            if phase.number == VALIDATION and ctx.verify is not None:
                ctx.verify.iteration += 1
            outcome = await self._run_phase(ctx, phase, record)
            if outcome.status == "cancelled":
                self._cancel(run, ctx.cancel.reason)
            elif outcome.status == "failed" and phase.number in (VALIDATION, HEALTH):
                failed_checks.append((phase, outcome))
            elif outcome.status == "failed" and not (phase.number == REPAIR and ctx.verify):
                run.status = "failed"
                run.error = f"phase {phase.number} ({phase.name}) failed: {outcome.message}"
            if phase.number == HEALTH or (phase.number == VALIDATION and HEALTH not in numbers):
                if run.status != "running":
                    continue
                target = await self._loop_back(ctx)  # also weighs the last repair attempt
                if not failed_checks:
                    continue
                if target is not None and target in numbers:
                    index = numbers.index(target)
                    failed_checks = []
                    continue
                last, outcome = failed_checks[-1]
                run.status = "failed"
                run.error = f"phase {last.number} ({last.name}) failed: {outcome.message}"

    async def _loop_back(self, ctx: RunContext) -> int | None:
        repair = next((p for p in self.phases if p.number == REPAIR), None)
        loop_back = getattr(repair, "loop_back", None)
        if loop_back is None:
            return None
        target: int | None = await loop_back(ctx)
        return target

    async def _clean_up(self, ctx: RunContext) -> None:
        """What the verify phases set up for the app (its database) goes with the run."""
        if ctx.verify is None:
            return
        for error in await ctx.verify.clean_up():  # never hides the run's own result
            log.error("cleaning up after run %s failed: %s", ctx.run.id, error)

    def _cancel(self, run: RunRecord, reason: str) -> None:
        run.status = "cancelled"
        run.error = reason or "cancelled"

    async def _run_phase(self, ctx: RunContext, phase: Phase, record: PhaseRecord) -> PhaseOutcome:
        run = ctx.run
        record.status = "running"
        record.started_at = utc_now()
        record.message = ""
        await self.store.save_phase(run.id, record)
        await self.bus.publish(
            PhaseStarted(
                run_id=run.id,
                phase=phase.number,
                name=phase.name,
                percent=ctx.percent(phase.number, 0),
            )
        )
        clock = time.perf_counter()
        try:
            outcome = await phase.run(ctx)
        except Cancelled as cancelled:
            outcome = PhaseOutcome("cancelled", str(cancelled))
        except Exception as error:  # a phase's bug fails the run, with its reason on record
            log.exception("phase %s failed", phase.key)
            outcome = PhaseOutcome("failed", f"{type(error).__name__}: {error}")
        record.status = outcome.status
        record.message = outcome.message
        record.detail = outcome.detail
        record.finished_at = utc_now()
        record.duration_ms = round((time.perf_counter() - clock) * 1000, 3)
        await self.store.save_phase(run.id, record)
        await self.bus.publish(
            PhaseFinished(
                run_id=run.id,
                phase=phase.number,
                name=phase.name,
                status=outcome.status,
                duration_ms=record.duration_ms,
                message=outcome.message,
                percent=ctx.percent(phase.number, 1),
            )
        )
        return outcome

    async def _finish(self, ctx: RunContext, started: float) -> RunRecord:
        run = ctx.run
        if run.status == "running":
            missing = [p for p in run.phases if p.status == "unavailable"]
            unverified = ctx.verify is None and _skipped(run)
            run.status = "incomplete" if missing or unverified else "passed"
            reasons = []
            if unverified:
                deployment = run.phase(DEPLOYMENT)
                reasons.append(f"not verified: {deployment.message if deployment else ''}")
            if missing:
                names = ", ".join(f"{p.number} {p.name}" for p in missing)
                reasons.append(f"not available in this version: phases {names}")
            run.error = "; ".join(reasons)
        if run.status in ("passed", "incomplete"):
            await self._commit(ctx)
        for phase in self.phases:  # what a phase keeps for the next run (a baseline)
            finished = getattr(phase, "run_finished", None)
            if finished is not None:
                try:
                    await finished(ctx)
                except Exception:  # never the run's result
                    log.exception("phase %s failed after the run", phase.key)
        run.finished_at = utc_now()
        await self.store.save_run(run)
        await self.store.audit(run.id, f"run.{run.status}", {"error": run.error})
        await self.bus.publish(
            RunFinished(
                run_id=run.id,
                status=run.status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                error=run.error,
                percent=100.0 if run.status in ("passed", "incomplete") else 0.0,
            )
        )
        return run

    async def _commit(self, ctx: RunContext) -> None:
        """Commit the staged files; the audit says what happened to each."""
        staged = ctx.staging.files()
        # only a generate whose whole tree is staged says which files are gone
        complete = ctx.mode == "generate" and bool(ctx.generated)
        complete = complete and set(ctx.generated) <= set(staged)
        result = await ctx.staging.commit_with(
            self.committer, overwrite=self.overwrite, complete=complete
        )
        self.commits[ctx.run.id] = result
        detail = result.model_dump(exclude={"conflicts"})
        detail["files"] = detail.pop("written")
        await self.store.audit(ctx.run.id, "output.committed", detail)
        if result.conflicts:
            conflicts = [conflict.model_dump() for conflict in result.conflicts]
            await self.store.audit(ctx.run.id, "output.conflicts", {"conflicts": conflicts})
            log.warning(
                "run %s: %d generated files not written over your edits: %s",
                ctx.run.id,
                len(conflicts),
                ", ".join(conflict.path for conflict in result.conflicts),
            )


def commit_from_audit(entries: Sequence[AuditEntry]) -> CommitResult | None:
    """What a run's commit did, read back from its audit entries; None when it did not
    commit."""
    found: CommitResult | None = None
    for entry in entries:
        if entry.action == "output.committed":
            detail = dict(entry.detail)
            detail["written"] = detail.pop("files", [])
            conflicts = found.conflicts if found else []
            found = CommitResult.model_validate(detail)
            found.conflicts = conflicts
        elif entry.action == "output.conflicts":
            found = found or CommitResult()
            found.conflicts = [Conflict.model_validate(c) for c in entry.detail["conflicts"]]
    return found


def _skipped(run: RunRecord) -> bool:
    """Phase 7 did not deploy the app (an untrusted workspace)."""
    deployment = run.phase(DEPLOYMENT)
    return deployment is not None and deployment.status == "skipped"
