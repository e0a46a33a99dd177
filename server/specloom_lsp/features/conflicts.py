"""Conflicts in the editor: a generated file the user edited since it was generated
is not overwritten by a run (`specloom.pipeline.staging`). Each such file gets a
diagnostic (Warning, source specloom, code `conflict`, on the first line that differs
from the generated version) and three quick fixes:

- "Keep my version" (`specloom.keepMine`): the user's bytes become the baseline in
  `.specloom-generated.json`, and the generated version they declined is remembered:
  later runs that generate that same version leave the file alone, silently; a run
  that generates something new for it reports a conflict again.
- "Take the generated version": a workspace edit replacing the file's text with the
  generated version the run kept aside, then `specloom.takeGenerated`, which records
  it as the baseline (and writes the file when the edit did not reach the disk and
  the editor does not have it open).
- "Show the diff" (`specloom.showDiff`): writes a unified diff (yours -> generated)
  next to the kept generated version and asks the client to open it
  (`window/showDocument`), else says where it is in a message.

A conflict's diagnostic clears when it is resolved: by one of these, by a save that
makes the file the generated version, or by a later run that no longer has it.
Clearing it also clears that file's validation findings until the next run.
"""

from __future__ import annotations

import difflib
import logging
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.pipeline.staging import CommitResult, Conflict

logger = logging.getLogger(__name__)

SOURCE, CODE = "specloom", "conflict"
KEEP_MINE, TAKE_GENERATED, SHOW_DIFF = (
    "specloom.keepMine",
    "specloom.takeGenerated",
    "specloom.showDiff",
)
WHY = {
    "edited": "you edited this file since Specloom generated it",
    "kept": "you kept your version of this file, and Specloom now generates another one",
    "untracked": "Specloom did not generate this file, and now generates one here",
}


@dataclass
class OpenConflict:
    """A conflict not resolved yet, on the generated file at `uri`."""

    uri: str
    spec_uri: str
    out_dir: Path
    conflict: Conflict

    @property
    def target(self) -> Path:
        return self.out_dir / self.conflict.path

    def generated(self) -> str:
        return Path(self.conflict.generated).read_text(encoding="utf-8")


class ConflictBoard:
    """The open conflicts of every spec, and their diagnostics."""

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server
        self.open: dict[str, OpenConflict] = {}
        """generated file URI -> its open conflict."""

    def update(self, spec_uri: str, out_dir: Path, result: CommitResult) -> None:
        """After a run's commit: its conflicts are open, those it settled are not."""
        now = {conflict.path: conflict for conflict in result.conflicts}
        settled = {
            *result.written,
            *result.unchanged,
            *result.kept,
            *result.deleted,
            *result.left,
            *result.not_applied,
        }
        for uri, entry in list(self.open.items()):
            if entry.out_dir == out_dir and entry.conflict.path in settled - set(now):
                self.resolve(uri)
        for conflict in now.values():
            uri = (out_dir / conflict.path).as_uri()
            self.open[uri] = OpenConflict(uri, spec_uri, out_dir, conflict)
            self._publish(uri)

    def text_of(self, entry: OpenConflict) -> str:
        """The user's version: the editor's when the file is open, else the disk's."""
        document = self.server.workspace.text_documents.get(entry.uri)
        if document is not None:
            return str(document.source)
        return entry.target.read_text(encoding="utf-8")

    def diagnostic(self, entry: OpenConflict) -> types.Diagnostic:
        conflict = entry.conflict
        try:
            mine = self.text_of(entry).splitlines()
            theirs = entry.generated().splitlines()
        except (OSError, UnicodeDecodeError):
            mine, theirs = [], []
        line = next(
            (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
            min(len(mine), len(theirs)),
        )
        end = types.Position(line + 1, 0) if line < len(mine) else types.Position(line, 0)
        return types.Diagnostic(
            range=types.Range(types.Position(line, 0), end),
            message=(
                f"Not overwritten: {WHY.get(conflict.reason, WHY['edited'])}. The generated "
                f"version is at {conflict.generated}: keep yours, take the generated one, "
                "or show the diff."
            ),
            severity=types.DiagnosticSeverity.Warning,
            code=CODE,
            source=SOURCE,
            data={
                "path": conflict.path,
                "generated": conflict.generated,
                "output_dir": str(entry.out_dir),
            },
        )

    def _publish(self, uri: str) -> None:
        entry = self.open[uri]
        self.server.run_diagnostics[uri] = [self.diagnostic(entry)]
        self.server.publish_diagnostics(uri, [])

    def resolve(self, uri: str) -> None:
        if self.open.pop(uri, None) is None:
            return
        self.server.run_diagnostics.pop(uri, None)
        self.server.publish_diagnostics(uri, [])

    def entry(self, command: str, args: tuple[Any, ...]) -> OpenConflict:
        uri = args[0] if args and isinstance(args[0], str) else None
        entry = self.open.get(uri) if uri else None
        if entry is None:
            raise JsonRpcInvalidParams(f"{command}: no open conflict on {uri}")
        return entry

    # --- the code actions -----------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        entry = self.open.get(params.text_document.uri)
        only = params.context.only
        if entry is None or (only and not any(_quickfix(kind) for kind in only)):
            return None
        diagnostic = next(
            (d for d in params.context.diagnostics if d.source == SOURCE and d.code == CODE),
            None,
        ) or self.diagnostic(entry)
        arguments: list[Any] = [entry.uri]
        name = entry.conflict.path
        actions = [
            types.CodeAction(
                title=f"Keep my version of {name}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                command=types.Command(
                    title=f"Keep my version of {name}", command=KEEP_MINE, arguments=arguments
                ),
            ),
            types.CodeAction(
                title=f"Take the generated version of {name}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=self.take_edit(entry),
                command=types.Command(
                    title=f"Take the generated {name}", command=TAKE_GENERATED, arguments=arguments
                ),
            ),
            types.CodeAction(
                title=f"Show the diff of {name} and the generated version",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                command=types.Command(
                    title=f"Show the diff of {name}", command=SHOW_DIFF, arguments=arguments
                ),
            ),
        ]
        return actions

    def take_edit(self, entry: OpenConflict) -> types.WorkspaceEdit:
        from specloom_lsp.apply import whole_text_range

        document = self.server.workspace.text_documents.get(entry.uri)
        edit = types.TextEdit(
            range=whole_text_range(self.server, self.text_of(entry)), new_text=entry.generated()
        )
        workspace = self.server.client_capabilities.workspace
        capability = workspace.workspace_edit if workspace else None
        if capability is not None and capability.document_changes:
            identifier = types.OptionalVersionedTextDocumentIdentifier(
                uri=entry.uri, version=document.version if document is not None else None
            )
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])]
            )
        return types.WorkspaceEdit(changes={entry.uri: [edit]})

    # --- the commands ---------------------------------------------------------------

    async def keep_mine(self, *args: Any) -> Any:
        from specloom.pipeline.generated import keep_mine

        entry = self.entry(KEEP_MINE, args)
        generated = Path(entry.conflict.generated).read_bytes()
        keep_mine(entry.out_dir, entry.conflict.path, generated)
        self.resolve(entry.uri)
        logger.info("kept your version of %s", entry.conflict.path)
        return {"kept": entry.conflict.path}

    async def take_generated(self, *args: Any) -> Any:
        from specloom.pipeline.generated import take_generated
        from specloom.pipeline.staging import atomic_write

        entry = self.entry(TAKE_GENERATED, args)
        generated = Path(entry.conflict.generated).read_bytes()
        document = self.server.workspace.text_documents.get(entry.uri)
        if document is not None:
            if document.source.encode("utf-8") != generated:  # the edit was not applied
                result = await self.server.workspace_apply_edit_async(
                    types.ApplyWorkspaceEditParams(edit=self.take_edit(entry), label=TAKE_GENERATED)
                )
                if not result.applied:
                    raise JsonRpcInvalidParams(
                        f"the editor did not take the generated {entry.conflict.path}: "
                        f"{result.failure_reason or 'no reason given'}"
                    )
        elif _read(entry.target) != generated:
            atomic_write(entry.target, generated)
        take_generated(entry.out_dir, entry.conflict.path, generated)
        self.resolve(entry.uri)
        logger.info("took the generated version of %s", entry.conflict.path)
        return {"taken": entry.conflict.path}

    async def show_diff(self, *args: Any) -> Any:
        from specloom.pipeline.staging import atomic_write

        entry = self.entry(SHOW_DIFF, args)
        path = entry.conflict.path
        lines = difflib.unified_diff(
            self.text_of(entry).splitlines(keepends=True),
            entry.generated().splitlines(keepends=True),
            fromfile=f"{path} (yours)",
            tofile=f"{path} (generated)",
        )
        diff = Path(f"{entry.conflict.generated}.diff")
        atomic_write(diff, "".join(lines).encode("utf-8"))
        shown = False
        window = self.server.client_capabilities.window
        if window is not None and window.show_document is not None and window.show_document.support:
            try:
                result = await self.server.window_show_document_async(
                    types.ShowDocumentParams(uri=diff.as_uri(), take_focus=True)
                )
                shown = result.success
            except Exception as error:
                logger.warning("window/showDocument failed: %s", error)
        if not shown:
            self.server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Info,
                    message=f"Specloom: the diff of your {path} and the generated one is at {diff}",
                )
            )
        return {"diff": str(diff), "shown": shown}

    def saved(self, uri: str) -> None:
        """A save that makes the file the generated version resolves its conflict."""
        from specloom.pipeline.generated import take_generated

        entry = self.open.get(uri)
        if entry is None:
            return
        generated = Path(entry.conflict.generated).read_bytes()
        if _read(entry.target) == generated:
            take_generated(entry.out_dir, entry.conflict.path, generated)
            self.resolve(uri)


def _quickfix(kind: str) -> bool:
    return kind == types.CodeActionKind.QuickFix or types.CodeActionKind.QuickFix.startswith(
        f"{kind}."
    )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


_boards: weakref.WeakKeyDictionary[SpecloomLanguageServer, ConflictBoard] = (
    weakref.WeakKeyDictionary()
)


def board(server: SpecloomLanguageServer) -> ConflictBoard:
    """The server's conflict board (made on first use)."""
    found = _boards.get(server)
    if found is None:
        found = _boards[server] = ConflictBoard(server)
    return found


def setup(server: SpecloomLanguageServer) -> None:
    conflicts = board(server)
    options = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])

    @server.on(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return conflicts.code_actions(params)

    @server.on(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        conflicts.saved(params.text_document.uri)

    server.command(KEEP_MINE)(_unpacked(conflicts.keep_mine))
    server.command(TAKE_GENERATED)(_unpacked(conflicts.take_generated))
    server.command(SHOW_DIFF)(_unpacked(conflicts.show_diff))


def _unpacked(handler: Any) -> Any:
    async def command(*args: Any) -> Any:
        return await handler(*args)

    return command
