"""The commands (`workspace/executeCommand`): plan, generate, validate, status and
cancel. Each takes the spec document's URI as its first argument.

`specloom.plan` runs phases 1 to 5 (compile and plan) and writes plan.md and
plan.json into the spec's output directory. `specloom.generate` and
`specloom.validate` run the orchestrator in the server's event loop (its heavy parts
run in threads), so the server keeps answering meanwhile. Each of the three has one
work-done progress token, fed by the orchestrator's events; the same events go to
the client as `specloom/runEvent` notifications. `window/workDoneProgress/cancel` of
that token, `$/cancelRequest` of the command and `specloom.cancel` all cancel the
run: it ends "cancelled" and the output directory is left as it was.

One run per spec at a time; the orchestrator's workspace lock still applies across
specs. After a generate or validate run, its findings become diagnostics.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from specloom_lsp.findings import FindingsPublisher
from specloom_lsp.progress import WorkDone, cancel_with_request
from specloom_lsp.server import SpecloomLanguageServer, uri_to_path
from specloom_lsp.trust import WorkspaceTrust

if TYPE_CHECKING:  # the engine is imported where it is used: the server starts fast
    from specloom.pipeline.cancel import CancelToken
    from specloom.pipeline.events import RunEvent
    from specloom.pipeline.phase import Mode
    from specloom.pipeline.records import RunRecord, ValidationRecord
    from specloom.store.sql import SqlRunStore

    from specloom_lsp.config import Settings

logger = logging.getLogger(__name__)

PLAN, GENERATE, VALIDATE = "specloom.plan", "specloom.generate", "specloom.validate"
STATUS, CANCEL, REPAIR = "specloom.status", "specloom.cancel", "specloom.repair"
COMMANDS = (PLAN, GENERATE, VALIDATE, STATUS, CANCEL, REPAIR)
RUN_EVENT = "specloom/runEvent"
TOTAL_PHASES = 11
FINDING_FIELDS = {"kind", "message", "file", "requirement_id", "severity", "range", "spec_range"}


class CommandFailed(JsonRpcException):
    """The command could not do what was asked: LSP's RequestFailed."""

    CODE = -32803
    MESSAGE = "Request Failed"


@dataclass(slots=True)
class Spec:
    uri: str
    path: Path
    workspace: Path
    key: str


@dataclass(slots=True)
class InFlight:
    command: str
    cancel: CancelToken


def summary(run: RunRecord, files: list[str], findings: list[ValidationRecord]) -> dict[str, Any]:
    """The JSON summary of a run that a command returns."""
    return {
        "id": run.id,
        "status": run.status,
        "error": run.error,
        "spec_path": run.spec_path,
        "phases": [
            {
                "number": phase.number,
                "name": phase.name,
                "status": phase.status,
                "duration_ms": phase.duration_ms,
                "message": phase.message,
            }
            for phase in run.phases
        ],
        "files": files,
        "output_dir": run.out_dir,
        "findings": [finding.model_dump(include=FINDING_FIELDS) for finding in findings],
    }


def current_findings(run: RunRecord) -> list[ValidationRecord]:
    """The findings of the last pass of the verify loop, as the run store keeps them."""
    from specloom.verify.findings import last_pass

    return [finding.record() for finding in last_pass(run)]


class Commands:
    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.in_flight: dict[str, InFlight] = {}
        self.stores: dict[tuple[str | None, str], SqlRunStore] = {}
        self.findings = FindingsPublisher(server)
        self.generation: dict[str, Any] = {}
        """spec -> its phase 6, kept across runs: its pattern bank and the baseline of
        the last verified run make the next generation incremental."""
        self.libraries: dict[str, Any] = {}
        """workspace -> its pattern library, opened by the first run and kept open (one
        per workspace: the embedded vector store admits one holder)."""
        self._opening = asyncio.Lock()
        self.trust = WorkspaceTrust(server)

    # --- arguments ------------------------------------------------------------------

    def spec_of(self, command: str, args: tuple[Any, ...]) -> Spec:
        if not args or not isinstance(args[0], str) or not args[0]:
            raise JsonRpcInvalidParams(
                f"{command} needs the spec document's URI as its first argument"
            )
        uri = args[0]
        document = self.server.documents.get(uri)
        if document is not None:
            path_text: str | None = document.path
        else:
            path_text = uri_to_path(uri)
            if path_text is not None and self.server.spec_path(uri) is None:
                raise JsonRpcInvalidParams(f"{command}: {uri} is not a spec document")
        if path_text is None:
            raise JsonRpcInvalidParams(f"{command}: {uri} is not a spec document on disk")
        path = Path(path_text)
        if command != STATUS and command != CANCEL and not path.is_file():
            raise JsonRpcInvalidParams(f"{command}: no spec at {uri}")
        path = path.resolve()
        return Spec(uri, path, self.workspace_of(path), str(path))

    def confined(self, spec: Spec, out_dir: Path) -> Path:
        """On a shared server (`SPECLOOM_WORKSPACES`), a connection reads and writes
        only inside its workspace root, which lies inside that directory: the spec, its
        workspace and its output directory are checked before anything runs."""
        from specloom_lsp.remote import workspaces_root

        shared = workspaces_root()
        if shared is None:
            return out_dir
        root = self.server.workspace_root()
        mine = Path(root).resolve() if root else None
        if mine is None or not mine.is_relative_to(shared):
            raise CommandFailed(
                f"this server serves workspaces under {shared} only; the workspace root "
                f"{mine} is not one of them"
            )
        for what, path in (("spec", spec.path), ("workspace", spec.workspace), ("output", out_dir)):
            if not path.resolve().is_relative_to(mine):
                raise CommandFailed(f"the {what} {path} is outside the workspace root {mine}")
        return out_dir

    def workspace_of(self, path: Path) -> Path:
        """The workspace folder the spec is in (the innermost), else the root."""
        candidates: list[Path] = []
        try:
            folders = list(self.server.workspace.folders.values())
        except RuntimeError:
            folders = []
        for folder in folders:
            folder_path = uri_to_path(folder.uri)
            if folder_path and path.is_relative_to(Path(folder_path).resolve()):
                candidates.append(Path(folder_path).resolve())
        if candidates:
            return max(candidates, key=lambda p: len(p.parts))
        root = self.server.workspace_root()
        if root and path.is_relative_to(Path(root).resolve()):
            return Path(root).resolve()
        return path.parent

    async def store(self, settings: Settings, workspace: Path) -> SqlRunStore:
        key = (settings.store_url, str(workspace))
        store = self.stores.get(key)
        if store is None:
            from specloom.store.base import StoreUnavailable
            from specloom.store.urls import open_store

            try:
                store = await open_store(settings.store_url, workspace)
            except StoreUnavailable as error:
                raise CommandFailed(str(error)) from None
            self.stores[key] = store
        return store

    def phases_for(self, spec: Spec) -> list[Any]:
        """The 11 phases for a run of `spec`, with the spec's own phase 6."""
        from specloom.codegen.phase import CodeGeneration
        from specloom.pipeline.phases import default_phases

        codegen = self.generation.get(spec.key)
        if codegen is None:
            codegen = self.generation[spec.key] = CodeGeneration(libraries=self.library)
        return default_phases(codegen)

    async def library(self, workspace: Path) -> Any:
        """The workspace's pattern library, opened once and kept."""
        from specloom.patterns.bank import PatternLibrary

        key = str(workspace.resolve())
        async with self._opening:
            library = self.libraries.get(key)
            if library is None:
                library = await PatternLibrary.open(workspace)
                library.persist_in_background = True
                self.libraries[key] = library
        return library

    # --- one run per spec -----------------------------------------------------------

    def claim(self, spec: Spec, command: str) -> InFlight:
        if spec.key in self.in_flight:
            raise CommandFailed("a run is already in flight for this spec")
        from specloom.pipeline.cancel import CancelToken

        flight = self.in_flight[spec.key] = InFlight(command, CancelToken())
        cancel_with_request(self.server, flight.cancel)
        return flight

    async def guarded(
        self, spec: Spec, command: str, title: str, work: Callable[[WorkDone], Awaitable[Any]]
    ) -> Any:
        flight = self.claim(spec, command)
        progress = WorkDone(self.server, title, flight.cancel, TOTAL_PHASES)
        final = "failed"
        try:
            await progress.begin("starting")
            result = await work(progress)
            if isinstance(result, dict) and "status" in result:
                final = str(result["status"])
                if result.get("error"):
                    final += f": {result['error']}"
            else:
                final = "done"
            return result
        except JsonRpcException as error:
            final = f"failed: {error.message}"
            raise
        except Exception as error:
            final = f"failed: {error}"
            logger.exception("%s failed", command)
            raise CommandFailed(f"{command} failed: {error}") from error
        finally:
            self.in_flight.pop(spec.key, None)
            progress.end(final)

    # --- the commands ---------------------------------------------------------------

    async def plan(self, *args: Any) -> Any:
        spec = self.spec_of(PLAN, args)
        settings = self.server.settings
        out_dir = self.confined(spec, settings.output_dir_for(str(spec.path), str(spec.workspace)))

        async def work(progress: WorkDone) -> dict[str, Any]:
            cancel = self.in_flight[spec.key].cancel
            return await _plan(spec.path, out_dir, progress, cancel)

        return await self.guarded(spec, PLAN, f"Specloom: plan {spec.path.name}", work)

    async def generate(self, *args: Any) -> Any:
        return await self._run(GENERATE, "generate", args)

    async def validate(self, *args: Any) -> Any:
        return await self._run(VALIDATE, "validate", args)

    async def repair(self, *args: Any) -> Any:
        """Validate with at least one repair attempt; the summary has the attempts."""
        return await self._run(REPAIR, "validate", args)

    async def _run(self, command: str, mode: Mode, args: tuple[Any, ...]) -> Any:
        spec = self.spec_of(command, args)
        settings = self.server.settings
        out_dir = self.confined(spec, settings.output_dir_for(str(spec.path), str(spec.workspace)))
        if mode == "validate" and not (out_dir / "app" / "main.py").is_file():
            raise CommandFailed(
                f"nothing to validate: there is no app/main.py in {out_dir}; generate first"
            )

        async def work(progress: WorkDone) -> dict[str, Any]:
            from specloom.cli_pipeline import pipeline_settings
            from specloom.pipeline.events import EventBus
            from specloom.pipeline.lock import WorkspaceBusy
            from specloom.pipeline.orchestrator import Orchestrator, RunError
            from specloom.store.base import StoreUnavailable

            from specloom_lsp.apply import EditorCommitter

            store = await self.store(settings, spec.workspace)
            trust = await self.trust.decide(spec.workspace)
            attempts = settings.repair_attempts
            if command == REPAIR:
                attempts = max(1, attempts)
            orchestrator = Orchestrator(
                store,
                phases=self.phases_for(spec),
                settings=pipeline_settings(trust.trusted, attempts, settings.database_url),
                bus=EventBus(),
                committer=(committer := EditorCommitter(self.server, spec.uri, out_dir)),
            )
            progress.total = len(orchestrator.phases)

            def on_event(event: RunEvent) -> None:
                data = event.model_dump(mode="json")
                data["kind"] = event.kind
                data["uri"] = spec.uri
                self.server.protocol.notify(RUN_EVENT, data)
                progress.on_event(event)

            orchestrator.bus.subscribe(on_event)
            cancel = self.in_flight[spec.key].cancel
            from specloom_lsp.features.repair_actions import run_started

            run_started(self.server, spec.uri)
            clock = time.perf_counter()
            try:
                record = await orchestrator.run(
                    spec.path, out_dir, spec.workspace, cancel, mode=mode
                )
            except (RunError, WorkspaceBusy, StoreUnavailable) as error:
                raise CommandFailed(str(error)) from None
            ran = time.perf_counter() - clock
            from specloom_lsp.metrics import current

            metrics = current()
            if metrics is not None:
                metrics.run_finished(command, record, await store.llm_usage_totals(record.id))
            findings = await store.list_validations(record.id)
            files = await _files_written(store, record.id)
            output = committer.report(orchestrator.commits.get(record.id))  # before findings
            if record.status != "cancelled":
                last = current_findings(record)
                self.findings.publish(spec.uri, out_dir, last)
                self.server.show_test_status(spec.uri, out_dir, record, last)
                from specloom_lsp.features.repair_actions import run_finished

                await run_finished(self.server, spec.uri, out_dir, record, store)
            logger.info(
                "%s of %s: %s; run %.3f s, with the summary %.3f s",
                mode,
                spec.path.name,
                record.status,
                ran,
                time.perf_counter() - clock,
            )
            result = summary(record, files, findings)
            result["output"] = output
            result["trust"] = trust.as_json()
            if command == REPAIR:
                repair = record.phase(8)
                result["repairs"] = list(repair.detail.get("attempts") or []) if repair else []
            return result

        title = f"Specloom: {command.removeprefix('specloom.')} {spec.path.name}"
        return await self.guarded(spec, command, title, work)

    async def status(self, *args: Any) -> Any:
        spec = self.spec_of(STATUS, args)
        store = await self.store(self.server.settings, spec.workspace)
        runs = await store.list_runs(str(spec.workspace), limit=200)
        latest = next((run for run in runs if run.spec_path == spec.key), None)
        if latest is None:
            return None
        findings = await store.list_validations(latest.id)
        result = summary(latest, await _files_written(store, latest.id), findings)
        result["in_flight"] = spec.key in self.in_flight
        return result

    async def cancel(self, *args: Any) -> Any:
        spec = self.spec_of(CANCEL, args)
        flight = self.in_flight.get(spec.key)
        if flight is None:
            return False
        flight.cancel.cancel("cancelled by specloom.cancel")
        return True

    async def close(self) -> None:
        for store in self.stores.values():
            try:
                await store.close()
            except Exception:
                logger.exception("closing a run store failed")
        self.stores.clear()
        for library in self.libraries.values():
            try:
                await library.close()
            except Exception:
                logger.exception("closing a pattern library failed")
        self.libraries.clear()


async def _files_written(store: SqlRunStore, run_id: str) -> list[str]:
    """The files a run committed to its output directory (relative to it)."""
    files: list[str] = []
    for entry in await store.list_audit(run_id, limit=1000):
        if entry.action == "output.committed":
            files.extend(str(f) for f in entry.detail.get("files", []))
    return files


PLAN_PHASES = {
    1: "spec ingestion",
    2: "requirements analysis",
    3: "multi-pass planning",
    4: "atomization",
    5: "DAG construction",
}


async def _plan(
    spec_path: Path, out_dir: Path, progress: WorkDone, cancel: CancelToken
) -> dict[str, Any]:
    """Phases 1 to 5: compile, plan, write plan.md and plan.json (the work in threads)."""
    from specloom.plan.dag import make_plan
    from specloom.plan.render import write_plan
    from specloom.spec.compiler import compile_spec

    def step(number: int) -> None:
        if cancel.cancelled:
            raise CommandFailed(f"cancelled: {cancel.reason}")
        progress.names[number] = PLAN_PHASES[number]
        progress.report(progress.phase_message(number), 100 * (number - 1) / progress.total)

    step(1)
    data = await asyncio.to_thread(spec_path.read_bytes)
    result = await asyncio.to_thread(compile_spec, data, str(spec_path))
    if not result.ok:
        raise CommandFailed(f"{len(result.errors)} errors in {spec_path.name}: fix them first")
    step(3)
    the_plan, _diagnostics = await asyncio.to_thread(
        make_plan, result.ir, hashlib.sha256(data).hexdigest()
    )
    step(5)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, plan_file = await asyncio.to_thread(write_plan, the_plan, out_dir)
    from specloom.pipeline.generated import record_written  # generate sees them as generated

    await asyncio.to_thread(record_written, out_dir, [Path(markdown).name, Path(plan_file).name])
    return {
        "status": "failed" if the_plan.cycles else "planned",
        "error": "the plan has dependency cycles" if the_plan.cycles else "",
        "tasks": len(the_plan.tasks),
        "dependencies": len(the_plan.edges),
        "levels": len(the_plan.levels),
        "files": [Path(markdown).name, Path(plan_file).name],
        "output_dir": str(out_dir),
    }


def setup(server: SpecloomLanguageServer) -> None:
    commands = Commands(server)
    handlers: dict[str, Callable[..., Awaitable[Any]]] = {
        PLAN: commands.plan,
        GENERATE: commands.generate,
        VALIDATE: commands.validate,
        REPAIR: commands.repair,
        STATUS: commands.status,
        CANCEL: commands.cancel,
    }
    for name, handler in handlers.items():
        server.command(name)(_wrap(handler))

    @server.on(types.SHUTDOWN)
    async def shutdown(_params: Any) -> None:
        for flight in list(commands.in_flight.values()):
            flight.cancel.cancel("the server is shutting down")
        if not commands.in_flight:
            await commands.close()


def _wrap(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def command(*args: Any) -> Any:
        return await handler(*args)

    return command
