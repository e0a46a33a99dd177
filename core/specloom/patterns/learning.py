"""Phase 11, learning: the patterns of a run that came out clean go into the
workspace's pattern library; a run that stayed broken counts a failure against the
patterns of the tasks its findings point at.

Clean means deployed, validated and healthy (phases 7, 9 and 10 passed, after any
repair). A run that did not run the app (an untrusted workspace) teaches nothing: its
code was never checked. Nothing here fails a run: a library that cannot be written is
reported in this phase's message.
"""

from __future__ import annotations

from typing import Any

from specloom.codegen.phase import VERIFIED
from specloom.pipeline.phase import Phase, PhaseOutcome, RunContext


class Learning(Phase):
    number, key, name = 11, "learning", "learning"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        if ctx.mode != "generate" or ctx.plan is None or not ctx.rendered:
            return PhaseOutcome("skipped", "nothing was generated in this run to learn from")
        statuses = {n: (p.status if (p := ctx.run.phase(n)) else "") for n in VERIFIED}
        if any(status in ("", "skipped", "pending", "unavailable") for status in statuses.values()):
            return PhaseOutcome(
                "skipped", "nothing verified to learn from: the app was not run (trust it)"
            )
        library = ctx.library
        if library is None:
            return PhaseOutcome("skipped", ctx.library_problem or "no pattern library")
        detail: dict[str, Any] = {"library": library.where}
        if all(status == "passed" for status in statuses.values()):
            kinds = {r.id: str(r.kind) for r in ctx.ir.validation.requirements} if ctx.ir else {}
            learned = await library.learn(ctx.plan, ctx.rendered, kinds, ctx.run.id)
            total = await library.count()
            detail.update(stored=learned.stored, updated=learned.updated, patterns=total)
            return PhaseOutcome(
                "passed",
                f"{learned.stored} new patterns, {learned.updated} confirmed; "
                f"{total} in the library",
                detail,
            )
        failing = self._failing_tasks(ctx)
        counted = await library.failed(ctx.plan, failing)
        detail.update(failing_tasks=failing, patterns_failed=counted)
        return PhaseOutcome(
            "passed",
            f"the app did not verify clean: a failure counted against {counted} patterns "
            f"(of {len(failing)} tasks its findings point at)",
            detail,
        )

    @staticmethod
    def _failing_tasks(ctx: RunContext) -> list[str]:
        """The tasks that implement a requirement a blocking finding names."""
        if ctx.verify is None or ctx.plan is None:
            return []
        requirements = {f.requirement_id for f in ctx.verify.blocking() if f.requirement_id}
        return sorted(
            task.id for task in ctx.plan.tasks if requirements.intersection(task.requirement_ids)
        )
