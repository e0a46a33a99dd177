"""Repair code actions: quick fixes for the validation findings on generated files.

After a generate, validate or repair run has published its findings, this feature keeps,
per spec, what that run left: the findings of its last verify pass, the interpreter
phase 7 chose, and the reference tree (phase 6's render of the spec the run used, made
again in a thread: a run does not keep it). For each generated file with findings, the
deterministic repair strategies (`specloom.verify.repair`) propose their patch, and
`textDocument/codeAction` offers it as a QuickFix whose WorkspaceEdit changes the files
the patch changes ("Repair: restore the generated imports of app/routers/book.py").

An action is preferred only once it is checked: in the background, right after the run,
each patch is applied to a temporary copy of the app and the tests it affects (the test
modules the trace map links to the findings' requirements, and the failing tests' own
modules) run in the sandbox. Until then its title says "(not checked)", and "(tests
fail)" when they failed. Nothing is checked unless the run itself ran the app (a
trusted workspace). An action is offered only while its files are as the run left them.
What is offered and how it is checked, without the protocol: `specloom_lsp.repairs`.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import logging
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types

from specloom_lsp.repairs import (
    Fix,
    check_fix,
    interpreter_of,
    propose_fixes,
    render_reference,
    run_findings,
)
from specloom_lsp.server import SpecloomLanguageServer, uri_to_path

if TYPE_CHECKING:
    from specloom.pipeline.cancel import CancelToken
    from specloom.pipeline.records import RunRecord
    from specloom.store.base import RunStore
    from specloom.verify.findings import Finding

logger = logging.getLogger(__name__)

SOURCE = "specloom"

Verdict = Literal["not checked", "checking", "passed", "tests fail"]


@dataclass
class Check:
    verdict: Verdict = "not checked"
    detail: str = ""


@dataclass
class SpecRepairs:
    """What the last run of one spec left: its fixes by file URI, and their checks."""

    out_dir: Path
    fixes: dict[str, list[Fix]] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    cancel: CancelToken | None = None


_features: weakref.WeakKeyDictionary[SpecloomLanguageServer, RepairActions] = (
    weakref.WeakKeyDictionary()
)


async def run_finished(
    server: SpecloomLanguageServer,
    spec_uri: str,
    out_dir: Path,
    record: RunRecord,
    store: RunStore,
) -> None:
    """A run of the spec has published its findings: prepare their repairs (so that the
    code actions are there when the run's answer is), and check them in the background.
    Does nothing when the feature is not set up."""
    feature = _features.get(server)
    if feature is not None:
        await feature.run_finished(spec_uri, out_dir, record, store)


def run_started(server: SpecloomLanguageServer, spec_uri: str) -> None:
    """A new run of the spec supersedes the last one's checks: stop the one under way
    (its actions stay offered, "not checked", while their files are as they were)."""
    feature = _features.get(server)
    if feature is not None:
        feature.stop_checks(spec_uri)


class RepairActions:
    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.specs: dict[str, SpecRepairs] = {}
        self.references: dict[str, dict[str, str]] = {}
        """sha256 of a spec's text -> its reference tree (the latest few)."""

    # --- after a run ------------------------------------------------------------------

    async def run_finished(
        self, spec_uri: str, out_dir: Path, record: RunRecord, store: RunStore
    ) -> None:
        self.forget(spec_uri)
        findings = run_findings(record)
        if not findings:
            return
        staged = Path(record.workspace) / ".specloom" / "runs" / record.id / "staging"
        if record.status == "failed" and (staged / "app" / "main.py").is_file():
            # a generate that did not commit: its findings are about the staged app, not
            # the files in the output directory, which a fix would change
            logger.info("no repair actions: run %s left its app uncommitted", record.id)
            return
        from specloom.pipeline.cancel import CancelToken

        repairs = self.specs[spec_uri] = SpecRepairs(out_dir, cancel=CancelToken())
        try:
            reference = await self._prepare(repairs, record, store, findings)
        except Exception:  # the run's answer goes on without repair actions
            logger.exception("preparing the repair actions of %s failed", spec_uri)
            return
        python = interpreter_of(record)
        if not repairs.fixes or not python or self.server.settings.trust is False:
            return  # the run did not run the app: the actions stay "not checked"
        task = asyncio.ensure_future(self._check(repairs, reference, python))
        repairs.task = task
        task.add_done_callback(_log_failure)

    def stop_checks(self, spec_uri: str) -> None:
        repairs = self.specs.get(spec_uri)
        if repairs is None or repairs.task is None or repairs.task.done():
            return
        if repairs.cancel is not None:
            repairs.cancel.cancel("a newer run of the spec")
        repairs.task.cancel()
        for check in repairs.checks.values():
            if check.verdict == "checking":
                check.verdict = "not checked"

    def forget(self, spec_uri: str) -> None:
        self.stop_checks(spec_uri)
        self.specs.pop(spec_uri, None)

    async def _prepare(
        self, repairs: SpecRepairs, record: RunRecord, store: RunStore, findings: list[Finding]
    ) -> dict[str, str]:
        """The fixes of the run's findings, by file; returns the reference tree."""
        clock = time.perf_counter()
        data = await store.get_spec(record.spec_hash)
        if data is None:
            data = await asyncio.to_thread(Path(record.spec_path).read_bytes)
        reference = await self.reference(data, Path(record.spec_path).name)
        fixes = await asyncio.to_thread(propose_fixes, repairs.out_dir, reference, findings)
        for fix in fixes:
            uri = (repairs.out_dir / fix.file).resolve().as_uri()
            repairs.fixes.setdefault(uri, []).append(fix)
            repairs.checks.setdefault(fix.key, Check())
        logger.info(
            "repair actions for %d files, %d patches to check, in %.2f s",
            len(repairs.fixes),
            len(repairs.checks),
            time.perf_counter() - clock,
        )
        return reference

    async def _check(self, repairs: SpecRepairs, reference: dict[str, str], python: str) -> None:
        """Check each distinct patch on a copy of the app, one after the other."""
        from specloom.pipeline.cancel import Cancelled

        cancel = repairs.cancel
        assert cancel is not None
        by_key = {fix.key: fix for fixes in repairs.fixes.values() for fix in fixes}
        for key, fix in by_key.items():
            check = repairs.checks[key]
            check.verdict = "checking"
            began = time.perf_counter()
            try:
                passed, check.detail = await check_fix(
                    fix, repairs.out_dir, reference, python, cancel
                )
            except Cancelled:
                check.verdict = "not checked"
                raise
            except Exception as error:  # one check that cannot run leaves the others
                check.verdict = "not checked"
                logger.exception("checking the repair of %s failed", fix.file)
                check.detail = f"{type(error).__name__}: {error}"
                continue
            check.verdict = "passed" if passed else "tests fail"
            logger.info(
                "repair of %s checked in %.2f s: %s",
                fix.file,
                time.perf_counter() - began,
                check.detail,
            )

    async def reference(self, data: bytes, spec_name: str) -> dict[str, str]:
        """The tree phase 6 renders from this spec text (kept for the latest few specs)."""
        key = hashlib.sha256(data).hexdigest()
        tree = self.references.get(key)
        if tree is None:
            clock = time.perf_counter()
            tree = await asyncio.to_thread(render_reference, data, spec_name)
            logger.info(
                "reference tree of %s rendered in %.2f s", spec_name, time.perf_counter() - clock
            )
            self.references[key] = tree
            while len(self.references) > 4:
                self.references.pop(next(iter(self.references)))
        return tree

    # --- textDocument/codeAction ------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        only = params.context.only
        if only and not any(types.CodeActionKind.QuickFix.startswith(kind) for kind in only):
            return None
        uri = params.text_document.uri
        actions: list[types.CodeAction] = []
        for repairs in self.specs.values():
            for fix in repairs.fixes.get(uri, []):
                diagnostics = self._diagnostics(fix, params)
                if not diagnostics or not self._still_applies(repairs, fix):
                    continue
                check = repairs.checks.get(fix.key, Check())
                suffix = {
                    "passed": f" (checked: {check.detail})",
                    "tests fail": " (tests fail)",
                }.get(check.verdict, " (not checked)")
                actions.append(
                    types.CodeAction(
                        title=fix.describe() + suffix,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=diagnostics,
                        is_preferred=check.verdict == "passed",
                        edit=self._edit(repairs.out_dir, fix),
                    )
                )
        return actions or None

    def _diagnostics(self, fix: Fix, params: types.CodeActionParams) -> list[types.Diagnostic]:
        """The fix's diagnostics the request is about: those in its context, else those
        whose range meets the requested one."""
        from specloom_lsp.findings import to_diagnostic

        mine = [to_diagnostic(finding.record(), on_spec=False) for finding in fix.findings]
        asked = [
            d
            for d in params.context.diagnostics
            if d.source == SOURCE
            and any(d.code == m.code and d.range.start.line == m.range.start.line for m in mine)
        ]
        if asked:
            return asked
        return [m for m in mine if _meets(m.range, params.range)]

    def _still_applies(self, repairs: SpecRepairs, fix: Fix) -> bool:
        for path, base in fix.base.items():
            target = (repairs.out_dir / path).resolve()
            document = self.server.workspace.text_documents.get(target.as_uri())
            if document is not None:
                now: str | None = document.source
            else:
                try:
                    now = target.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    now = None
            if now != base:
                return False
        return True

    def _edit(self, out_dir: Path, fix: Fix) -> types.WorkspaceEdit:
        capabilities = self.server.client_capabilities.workspace
        workspace_edit = capabilities.workspace_edit if capabilities else None
        document_changes = bool(workspace_edit and workspace_edit.document_changes)
        changes: dict[str, list[types.TextEdit]] = {}
        operations: list[Any] = []
        for path, new in sorted(fix.changes.items()):
            uri = (out_dir / path).resolve().as_uri()
            old = fix.base.get(path)
            if new is None:
                operations.append(types.DeleteFile(uri=uri))
                continue
            edits = [text_edit(old or "", new)]
            if document_changes:
                if old is None:
                    options = types.CreateFileOptions(overwrite=False, ignore_if_exists=True)
                    operations.append(types.CreateFile(uri=uri, options=options))
                document = self.server.workspace.text_documents.get(uri)
                version = document.version if document is not None else None
                identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
                operations.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
            else:
                changes[uri] = list(edits)
        if document_changes:
            return types.WorkspaceEdit(document_changes=operations)
        return types.WorkspaceEdit(changes=changes)


# --- pure parts ---------------------------------------------------------------------------


def text_edit(old: str, new: str) -> types.TextEdit:
    """One edit that turns `old` into `new`: the changed lines only (whole lines, so the
    positions mean the same in every position encoding)."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    blocks = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
    if not blocks:
        return types.TextEdit(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), new_text=""
        )
    start_a, start_b = blocks[0][0], blocks[0][2]
    end_a, end_b = blocks[-1][1], blocks[-1][3]
    return types.TextEdit(
        range=types.Range(types.Position(start_a, 0), types.Position(end_a, 0)),
        new_text="".join(b[start_b:end_b]),
    )


def _meets(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return (position.line, position.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _log_failure(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        from specloom.pipeline.cancel import Cancelled

        if isinstance(error, Cancelled):
            return
        logger.error("checking repair actions failed", exc_info=error)


def setup(server: SpecloomLanguageServer) -> None:
    feature = RepairActions(server)
    _features[server] = feature
    options = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])

    @server.on(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        if uri_to_path(params.text_document.uri) is None:
            return None
        return feature.code_actions(params)

    @server.on(types.SHUTDOWN)
    def shutdown(_params: Any) -> None:
        for spec_uri in list(feature.specs):
            feature.forget(spec_uri)
