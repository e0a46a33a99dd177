"""How a run looks in a terminal: a progress bar fed by run events, and a final
table of phase timings."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from specloom.pipeline.events import (
    PhaseFinished,
    PhaseStarted,
    RunEvent,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
)
from specloom.pipeline.records import RunRecord

STATUS_STYLE = {
    "passed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "unavailable": "magenta",
    "skipped": "dim",
    "incomplete": "magenta",
    "pending": "dim",
    "running": "cyan",
}


class ProgressView:
    """One progress bar per run; subscribe `on_event` to the run's event bus."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.fields[run]}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
        )
        self.bars: dict[str, TaskID] = {}
        self.phase = ""

    def __enter__(self) -> ProgressView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def on_event(self, event: RunEvent) -> None:
        bar = self.bars.get(event.run_id)
        if bar is None:
            bar = self.progress.add_task("starting", total=100, run=f"run {event.run_id}")
            self.bars[event.run_id] = bar
        description: str | None = None
        if isinstance(event, RunStarted):
            description = "resuming" if event.resumed else "starting"
        elif isinstance(event, PhaseStarted):
            self.phase = f"phase {event.phase}/11 {event.name}"
            description = self.phase
        elif isinstance(event, PhaseFinished):
            description = f"phase {event.phase}/11 {event.name}: {event.status}"
        elif isinstance(event, TaskStarted):
            description = f"{self.phase} · {event.task_id}"
        elif isinstance(event, TaskFinished) and event.status == "failed":
            description = f"{self.phase} · {event.task_id} failed"
        elif isinstance(event, RunFinished):
            description = event.status
        self.progress.update(bar, completed=event.percent, description=description)


def phase_table(run: RunRecord) -> Table:
    table = Table(title=f"run {run.id}: {run.status}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("phase")
    table.add_column("status")
    table.add_column("ms", justify="right")
    table.add_column("message", overflow="fold")
    for phase in run.phases:
        style = STATUS_STYLE.get(phase.status, "")
        duration = f"{phase.duration_ms:.1f}" if phase.duration_ms is not None else ""
        table.add_row(
            str(phase.number),
            phase.name,
            f"[{style}]{phase.status}[/]" if style else phase.status,
            duration,
            phase.message,
        )
    return table
