"""A pipeline whose phase 6 is a slow stand-in, for tests that need a run to be in
the middle of its tasks: run it as a script (`run SPEC OUT WORKSPACE LOG` or
`resume RUN_ID WORKSPACE LOG`). Each task writes one file into the run's staging
and appends `start <id>` / `done <id>` lines to LOG."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from specloom.pipeline.events import RunEvent, RunStarted
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import Phase, RunContext
from specloom.pipeline.phases import TaskPhase, default_phases
from specloom.pipeline.scheduler import TaskContext
from specloom.plan.model import Task
from specloom.store.urls import open_store


class SlowGeneration(TaskPhase):
    number, key, name = 6, "codegen", "code generation (test stand-in)"

    def __init__(self, log: Path, delay: float) -> None:
        self.log = log
        self.delay = delay

    def note(self, line: str) -> None:
        with self.log.open("a") as stream:
            stream.write(line + "\n")

    async def perform(self, task: Task, ctx: RunContext, task_ctx: TaskContext) -> list[str]:
        self.note(f"start {task.id}")
        await asyncio.sleep(self.delay)
        task_ctx.cancel.raise_if_cancelled()
        path = f"tasks/{task.id.replace(':', '_')}.txt"
        ctx.staging.write(path, task.signature_hash)
        self.note(f"done {task.id}")
        return [path]


def phases(log: Path, delay: float) -> list[Phase]:
    registered = default_phases()
    registered[5] = SlowGeneration(log, delay)
    return registered


async def main(argv: list[str]) -> None:
    if argv[0] == "run":
        spec, out, workspace, log = (Path(a) for a in argv[1:5])
    else:
        run_id, workspace, log = argv[1], Path(argv[2]), Path(argv[3])
    store = await open_store(None, workspace)
    delay = float(os.environ.get("SLOW_TASK_DELAY", "0.05"))
    orchestrator = Orchestrator(store, phases(log, delay))

    def announce(event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            print(f"run {event.run_id}", flush=True)

    orchestrator.bus.subscribe(announce)
    try:
        if argv[0] == "run":
            record = await orchestrator.run(spec, out, workspace)
        else:
            record = await orchestrator.resume(run_id)
        print(f"status {record.status}", flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
