"""Phase 6, code generation: every task of the plan rendered into the run's staging,
then the whole tree formatted and traced."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specloom.codegen.bank import MemoryPatternBank, PatternBank
from specloom.codegen.format import FormatError
from specloom.codegen.generator import Generator
from specloom.codegen.incremental import Baseline, affected
from specloom.pipeline.phase import PhaseOutcome, RunContext
from specloom.pipeline.phases import TaskPhase
from specloom.pipeline.scheduler import TaskContext
from specloom.plan.model import Task

if TYPE_CHECKING:
    from specloom.patterns.bank import PatternLibrary


class CodeGeneration(TaskPhase):
    number, key, name = 6, "codegen", "code generation"

    def __init__(
        self,
        bank: PatternBank | None = None,
        libraries: Callable[[Path], Awaitable[PatternLibrary]] | None = None,
    ) -> None:
        self.bank = bank if bank is not None else MemoryPatternBank()
        self.libraries = libraries
        """Where a long-lived caller (the language server) keeps each workspace's pattern
        library open across runs; None: the library is opened for each run and closed
        when it ends."""
        self.generator: Generator | None = None
        self.baselines: dict[tuple[str, str], Baseline] = {}
        """(spec, output directory) -> what the last verified generation wrote: kept for
        the life of this phase (a language server's, a watcher's)."""

    def generator_for(self, ctx: RunContext) -> Generator:
        if self.generator is None or self.generator.plan is not ctx.plan:
            assert ctx.ir is not None
            assert ctx.plan is not None
            self.generator = Generator(
                ctx.ir, ctx.plan, spec_name=ctx.spec_path.name, bank=self.bank
            )
        return self.generator

    async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
        generator = self.generator_for(ctx)
        written = generator.perform(task)
        if ctx.mode == "generate":
            for path in written:
                ctx.staging.write(path, generator.files[path])
        return written

    async def restore(self, ctx: RunContext) -> None:
        """A resumed run verifies what this phase staged: render the reference again."""
        generator = self.generator_for(ctx)
        for task in ctx.plan.tasks if ctx.plan else []:
            generator.perform(task)
        ctx.generated = await asyncio.to_thread(generator.finish)
        ctx.app_dir = ctx.out_dir if ctx.mode == "validate" else ctx.staging.root

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        generator = self.generator_for(ctx)
        if ctx.mode == "generate" and ctx.plan is not None:
            await self._stored_patterns(ctx, generator)
        outcome = await super().run(ctx)
        if outcome.status != "passed":
            return outcome
        assert ctx.plan is not None
        for task in ctx.plan.tasks:
            # tasks done before a resume: render them again (generation is deterministic)
            if task.id in ctx.done_tasks and task.id not in generator.rendered:
                generator.perform(task)
        try:
            tree = await asyncio.to_thread(generator.finish)
        except FormatError as error:
            return PhaseOutcome("failed", f"the generated code does not format: {error}")
        ctx.generated = tree
        ctx.rendered = dict(generator.rendered)
        python = sum(path.endswith(".py") for path in tree)
        detail: dict[str, Any] = {"files": sorted(tree), "python_modules": python}
        reuse = self._reuse(ctx, generator)
        detail["reuse"] = reuse
        if ctx.mode == "validate":
            # the app in the output directory is verified as it is; the tree is the
            # reference repair restores from
            ctx.app_dir = ctx.out_dir
            message = f"reference tree of {len(tree)} files; verifying {ctx.out_dir} as it is"
            return PhaseOutcome("passed", message, detail)
        for path, text in tree.items():
            ctx.staging.write(path, text)
        ctx.app_dir = ctx.staging.root
        message = f"{len(tree)} files ({python} Python modules)"
        if reuse["reused"]:
            message += f"; {reuse['reused']} of {reuse['tasks']} tasks reused"
            if reuse["library"]:
                message += f" ({reuse['library']} from the pattern library)"
        baseline = self.baselines.get(_key(ctx))
        if baseline is not None and await asyncio.to_thread(baseline.intact, ctx.out_dir):
            ctx.affected = affected(ctx.plan, tree, baseline)
            message += "; " + ctx.affected.summary()
            detail["incremental"] = {
                "tasks": sorted(ctx.affected.tasks),
                "requirements": sorted(ctx.affected.requirements),
                "files": sorted(ctx.affected.files),
                "removed": sorted(ctx.affected.removed),
            }
        elif baseline is not None:
            message += "; the output changed since the last verified run: all is verified"
        return PhaseOutcome("passed", message, detail)

    async def run_finished(self, ctx: RunContext) -> None:
        """A run that verified clean is the baseline of the next generation. The
        library opened for the run is closed (phase 11 has learned by now)."""
        if ctx.mode == "generate" and ctx.plan is not None and verified_clean(ctx):
            self.baselines[_key(ctx)] = Baseline.of(ctx.plan, ctx.generated)
        library, ctx.library = ctx.library, None
        if library is not None and self.libraries is None:
            await library.close()

    async def _stored_patterns(self, ctx: RunContext, generator: Generator) -> None:
        """Open the workspace's pattern library for the run and hand the generator the
        reusable patterns of the plan's tasks. A library that cannot be opened leaves
        the run without reuse and learning, and says why (phase 6 and 11)."""
        from specloom.backends.errors import BackendUnavailable
        from specloom.patterns.bank import PatternLibrary, enabled
        from specloom.patterns.embed import EmbedderUnavailable

        assert ctx.plan is not None
        if not enabled():
            ctx.library_problem = "learning is off (SPECLOOM_LEARNING=0)"
            return
        try:
            if self.libraries is not None:
                ctx.library = await self.libraries(ctx.workspace)
            else:
                ctx.library = await PatternLibrary.open(ctx.workspace)
            # what this process rendered before needs no trip to the library
            known = getattr(self.bank, "has", None)
            wanted = [t for t in ctx.plan.tasks if known is None or not known(t)]
            recalled = await ctx.library.recall(wanted)
        except (BackendUnavailable, EmbedderUnavailable, OSError, ValueError) as error:
            ctx.library_problem = f"the pattern library could not be opened: {error}"
            if ctx.library is not None and self.libraries is None:
                await ctx.library.close()
            ctx.library = None
            return
        generator.stored = {task_id: pattern.rendered() for task_id, pattern in recalled.items()}

    @staticmethod
    def _reuse(ctx: RunContext, generator: Generator) -> dict[str, Any]:
        """How many of the run's tasks were not rendered anew, and from where."""
        total = len(ctx.plan.tasks) if ctx.plan is not None else 0
        sources = list(generator.reused.values())
        reused = len(sources)
        return {
            "tasks": total,
            "reused": reused,
            "memory": sources.count("memory"),
            "library": sources.count("library"),
            "rate": round(reused / total, 3) if total else 0.0,
        }


VERIFIED = (7, 9, 10)  # deployment, validation, health


def verified_clean(ctx: RunContext) -> bool:
    """Whether the run committed an app that deployed, validated and answered."""
    if ctx.run.status not in ("passed", "incomplete"):
        return False
    phases = [ctx.run.phase(number) for number in VERIFIED]
    return all(phase is not None and phase.status == "passed" for phase in phases)


def _key(ctx: RunContext) -> tuple[str, str]:
    return (str(ctx.spec_path), str(ctx.out_dir.resolve()))
