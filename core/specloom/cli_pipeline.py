"""`specloom plan`, `generate`, `resume` and `runs`: the pipeline from a terminal."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from specloom.pipeline.cancel import CancelToken
from specloom.pipeline.events import EventBus
from specloom.pipeline.lock import WorkspaceBusy
from specloom.pipeline.orchestrator import Orchestrator, RunError
from specloom.pipeline.phase import PipelineSettings
from specloom.pipeline.records import RunRecord, ValidationRecord
from specloom.pipeline.staging import CommitResult
from specloom.plan.dag import make_plan
from specloom.plan.render import write_plan
from specloom.run_view import ProgressView, phase_table
from specloom.spec.compiler import compile_spec
from specloom.store.base import StoreUnavailable
from specloom.store.urls import open_store

EXIT_CODES = {"passed": 0, "failed": 1, "incomplete": 3, "cancelled": 130}

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="SPECLOOM_STORE_URL",
        help="Run store URL (default: SQLite under WORKSPACE/.specloom/).",
    ),
]
WorkspaceOption = Annotated[
    Path,
    typer.Option("--workspace", help="The workspace (its .specloom/ holds runs and the lock)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the run record as JSON.")]
TrustOption = Annotated[
    bool,
    typer.Option(
        "--trust",
        envvar="SPECLOOM_TRUST",
        help="Trust the workspace: run the generated app and its tests (phases 7 to 10).",
    ),
]
RepairOption = Annotated[
    int, typer.Option("--repair-attempts", min=0, help="Repair attempts of the verify loop.")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SPECLOOM_APP_DATABASE_URL",
        help="PostgreSQL server for the app's database during verification "
        "(default: a SQLite file in the run's directory).",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"specloom: {message}", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(generate)
    app.command()(validate)
    app.command()(resume)
    app.command()(runs)


def plan(
    spec: Annotated[Path, typer.Argument(help="The spec file (Markdown).")],
    out: Annotated[
        Path, typer.Option("--out", help="Where to write plan.md and plan.json.")
    ] = Path("."),
) -> None:
    """Plan a spec (phases 1 to 5): write plan.md (Mermaid graph, tasks by level) and plan.json."""
    try:
        data = spec.read_bytes()
    except OSError as error:
        raise fail(f"cannot read {spec}: {error.strerror or error}") from None
    result = compile_spec(data, source=str(spec))
    for diagnostic in result.diagnostics:
        typer.echo(diagnostic.format(str(spec)))
    if not result.ok:
        raise fail(f"{len(result.errors)} errors in {spec}: fix them before planning", 1)
    the_plan, diagnostics = make_plan(result.ir, hashlib.sha256(data).hexdigest())
    for diagnostic in diagnostics:
        typer.echo(diagnostic.format(str(spec)))
    markdown, plan_file = write_plan(the_plan, out)
    typer.echo(
        f"{len(the_plan.tasks)} tasks, {len(the_plan.edges)} dependencies, "
        f"{len(the_plan.levels)} levels -> {markdown}, {plan_file}"
    )
    if the_plan.cycles:
        raise typer.Exit(1)


def pipeline_settings(
    trust: bool = False, repair_attempts: int = 3, database_url: str | None = None
) -> PipelineSettings:
    settings = PipelineSettings()
    settings.verify.trusted = trust
    settings.verify.repair_attempts = repair_attempts
    settings.verify.database_url = database_url
    return settings


OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Write generated files over your edits too (default: your edited files are "
        "kept, and the generated versions put aside and listed as conflicts).",
    ),
]


async def _with_store(
    url: str | None,
    workspace: Path,
    settings: PipelineSettings | None = None,
    overwrite: bool = False,
) -> Orchestrator:
    store = await open_store(url, workspace)
    return Orchestrator(store, settings=settings, bus=EventBus(), overwrite=overwrite)


Start = Callable[[Orchestrator, CancelToken], Awaitable[RunRecord]]


def _drive(
    workspace: Path,
    store_url: str | None,
    as_json: bool,
    start: Start,
    settings: PipelineSettings | None = None,
    overwrite: bool = False,
) -> None:
    console = Console(stderr=True)
    findings: list[ValidationRecord] = []
    commits: list[CommitResult] = []

    async def main() -> RunRecord:
        orchestrator = await _with_store(store_url, workspace, settings, overwrite)
        cancel = CancelToken()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, cancel.cancel, "interrupted (Ctrl-C)")
        loop.add_signal_handler(signal.SIGTERM, cancel.cancel, "terminated")
        try:
            if as_json:
                record = await start(orchestrator, cancel)
            else:
                with ProgressView(console) as view:
                    orchestrator.bus.subscribe(view.on_event)
                    record = await start(orchestrator, cancel)
                findings.extend(await orchestrator.store.list_validations(record.id))
            if record.id in orchestrator.commits:
                commits.append(orchestrator.commits[record.id])
            return record
        finally:
            await orchestrator.store.close()

    try:
        record = asyncio.run(main())
    except (StoreUnavailable, RunError, WorkspaceBusy) as error:
        raise fail(str(error)) from None
    if as_json:
        data = record.model_dump(mode="json")
        data["output"] = commits[0].model_dump(mode="json") if commits else None
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        console.print(phase_table(record))
        lines = verify_lines(record, findings) + (commit_lines(commits[0]) if commits else [])
        for line in lines:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        if record.error:
            console.print(f"[bold]{record.status}[/]: {record.error}")
        if record.status in ("failed", "cancelled"):
            console.print(f"resume with: specloom resume {record.id}")
    raise typer.Exit(EXIT_CODES.get(record.status, 1))


def generate(
    spec: Annotated[Path, typer.Argument(help="The spec file (Markdown).")],
    out: Annotated[Path, typer.Option("--out", help="The output directory.")],
    workspace: WorkspaceOption = Path("."),
    store: StoreOption = None,
    as_json: JsonOption = False,
    trust: TrustOption = False,
    repair_attempts: RepairOption = 3,
    database_url: DatabaseOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Run the pipeline on a spec: generate the app, then (with --trust) deploy, validate,
    check and repair it. Exit status: 0 passed, 1 failed, 3 incomplete (not verified, or
    a phase is not available in this version), 130 cancelled, 2 could not start. Files
    you edited since they were generated are kept and listed as conflicts; they do not
    change the exit status."""

    async def start(orchestrator: Orchestrator, cancel: CancelToken) -> RunRecord:
        return await orchestrator.run(spec, out, workspace, cancel)

    settings = pipeline_settings(trust, repair_attempts, database_url)
    _drive(workspace, store, as_json, start, settings, overwrite)


def validate(
    spec: Annotated[Path, typer.Argument(help="The spec file the app was generated from.")],
    out: Annotated[Path, typer.Option("--out", help="The app's directory.")],
    workspace: WorkspaceOption = Path("."),
    store: StoreOption = None,
    as_json: JsonOption = False,
    trust: TrustOption = False,
    repair_attempts: RepairOption = 3,
    database_url: DatabaseOption = None,
) -> None:
    """Verify an app already generated in OUT as it is now (phases 7 to 10), repairing
    what the deterministic strategies can reach in place. Same exit statuses as generate."""
    if not (out / "app" / "main.py").is_file():
        raise fail(f"{out} holds no generated app (no app/main.py): run `specloom generate`")

    async def start(orchestrator: Orchestrator, cancel: CancelToken) -> RunRecord:
        return await orchestrator.run(spec, out, workspace, cancel, mode="validate")

    _drive(
        workspace, store, as_json, start, pipeline_settings(trust, repair_attempts, database_url)
    )


def verify_lines(record: RunRecord, findings: list[ValidationRecord]) -> list[str]:
    """What the verify loop found and did, for a terminal."""
    lines: list[str] = []
    checks = {p.number: p for p in record.phases}
    validation, health = checks.get(9), checks.get(10)
    if validation and health and validation.status == health.status == "passed":
        lines.append(f"clean: {validation.message}; {health.message}")
    repair = checks.get(8)
    for attempt in repair.detail.get("attempts", []) if repair else []:
        files = ", ".join(attempt.get("files", {}))
        lines.append(f"repair attempt {attempt['attempt']}: {files}: {attempt.get('effect')}")
    shown = findings[-20:]
    for finding in shown:
        where = f"{finding.file}: " if finding.file else ""
        requirement = f" {finding.requirement_id}:" if finding.requirement_id else ""
        lines.append(f"{where}[{finding.kind}]{requirement} {finding.message}")
    if len(findings) > len(shown):
        lines.append(f"... and {len(findings) - len(shown)} earlier findings (--json lists runs)")
    return lines


def commit_lines(result: CommitResult) -> list[str]:
    """What the commit did to the output directory, for a terminal."""
    lines: list[str] = []
    counts = [
        f"{len(result.written)} written",
        f"{len(result.unchanged)} unchanged",
        *([f"{len(result.deleted)} deleted"] if result.deleted else []),
        *([f"{len(result.conflicts)} conflicts"] if result.conflicts else []),
    ]
    lines.append("output: " + ", ".join(counts))
    for conflict in result.conflicts:
        lines.append(f"conflict: {conflict.message()}")
    for path in result.overwritten:
        lines.append(f"overwritten (--overwrite): your edit of {path}")
    for path in result.left:
        lines.append(f"no longer generated, left in place (you edited it): {path}")
    if result.conflicts:
        lines.append("keep yours, or take the generated versions with --overwrite")
    return lines


def resume(
    run_id: Annotated[str, typer.Argument(help="The run to resume (`specloom runs`).")],
    workspace: WorkspaceOption = Path("."),
    store: StoreOption = None,
    as_json: JsonOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Resume a failed, cancelled or killed run from its last completed phase."""

    async def start(orchestrator: Orchestrator, cancel: CancelToken) -> RunRecord:
        return await orchestrator.resume(run_id, cancel)

    _drive(workspace, store, as_json, start, overwrite=overwrite)


def runs(
    workspace: WorkspaceOption = Path("."),
    store: StoreOption = None,
    limit: Annotated[int, typer.Option("--limit", help="How many runs to list.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """List the newest runs of the workspace."""

    async def main() -> list[RunRecord]:
        opened = await open_store(store, workspace)
        try:
            return await opened.list_runs(str(workspace.resolve()), limit)
        finally:
            await opened.close()

    try:
        records = asyncio.run(main())
    except StoreUnavailable as error:
        raise fail(str(error)) from None
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in records], indent=2) + "\n")
        return
    for record in records:
        when = record.created_at.strftime("%Y-%m-%d %H:%M:%S")
        phase = record.last_completed_phase
        typer.echo(
            f"{record.id}  {when}  {record.status:<10} phase {phase:>2}/11  {record.spec_path}"
        )
    if not records:
        typer.echo(f"no runs yet in {workspace.resolve()}{os.sep}")
