"""Phase 6, code generation: every task of the plan rendered into the run's staging,
then the whole tree formatted and traced."""

from __future__ import annotations

import asyncio

from specloom.codegen.bank import MemoryPatternBank, PatternBank
from specloom.codegen.format import FormatError
from specloom.codegen.generator import Generator
from specloom.codegen.incremental import Baseline, affected
from specloom.pipeline.phase import PhaseOutcome, RunContext
from specloom.pipeline.phases import TaskPhase
from specloom.pipeline.scheduler import TaskContext
from specloom.plan.model import Task


class CodeGeneration(TaskPhase):
    number, key, name = 6, "codegen", "code generation"

    def __init__(self, bank: PatternBank | None = None) -> None:
        self.bank = bank if bank is not None else MemoryPatternBank()
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
        outcome = await super().run(ctx)
        if outcome.status != "passed":
            return outcome
        assert ctx.plan is not None
        for task in ctx.plan.tasks:
            # tasks done before a resume: render them again (generation is deterministic)
            if task.id in ctx.done_tasks:
                generator.perform(task)
        try:
            tree = await asyncio.to_thread(generator.finish)
        except FormatError as error:
            return PhaseOutcome("failed", f"the generated code does not format: {error}")
        ctx.generated = tree
        python = sum(path.endswith(".py") for path in tree)
        detail = {"files": sorted(tree), "python_modules": python}
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
        """A run that verified clean is the baseline of the next generation."""
        if ctx.mode == "generate" and ctx.plan is not None and verified_clean(ctx):
            self.baselines[_key(ctx)] = Baseline.of(ctx.plan, ctx.generated)


VERIFIED = (7, 9, 10)  # deployment, validation, health


def verified_clean(ctx: RunContext) -> bool:
    """Whether the run committed an app that deployed, validated and answered."""
    if ctx.run.status not in ("passed", "incomplete"):
        return False
    phases = [ctx.run.phase(number) for number in VERIFIED]
    return all(phase is not None and phase.status == "passed" for phase in phases)


def _key(ctx: RunContext) -> tuple[str, str]:
    return (str(ctx.spec_path), str(ctx.out_dir.resolve()))
