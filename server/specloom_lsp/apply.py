"""Applying a run's generated files through the editor.

The orchestrator commits a run through a committer (`specloom.pipeline.staging`):
`EditorCommitter` is the language server's. When the client can take it (workspace
edits with `documentChanges` and the `create` resource operation), every changed file
of the run goes in ONE `workspace/applyEdit`: a `CreateFile` (ignoreIfExists) for each
new file, then a `TextDocumentEdit` replacing the whole text of each file (with the
open document's version when the file is open in the editor, else null), then a
`DeleteFile` for each file no longer generated when the client can delete (else the
server deletes it). So the editor's undo, its open buffers and its file watchers all
see the change as one edit. A client that cannot, that refuses (applied=false) or
does not answer in time gets the files written atomically, and the log says why.

A file open in the editor with unsaved changes is not replaced (its changes would be
lost): it is left out of the edit and reported as not applied.

After the run, `report` says how the files went ("applyEdit", "written", or "none"
when nothing needed writing) with what was written, unchanged and in conflict, and
has the conflicts published as diagnostics (`features/conflicts.py`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.pipeline.staging import CommitResult, FileChange

logger = logging.getLogger(__name__)

APPLY_TIMEOUT = 30.0  # seconds to wait for the client's answer to workspace/applyEdit
LABEL = "Specloom: generated files"


def can_apply(server: SpecloomLanguageServer) -> tuple[bool, str]:
    """Whether the client takes a run as one workspace edit; else why not."""
    workspace = server.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    if workspace is None or not workspace.apply_edit:
        return False, "the client does not support workspace/applyEdit"
    if edit is None or not edit.document_changes:
        return False, "the client does not support documentChanges in workspace edits"
    if types.ResourceOperationKind.Create not in (edit.resource_operations or []):
        return False, "the client cannot create files in a workspace edit"
    return True, ""


async def send_edit(
    server: SpecloomLanguageServer, edit: types.WorkspaceEdit, label: str
) -> tuple[bool, str]:
    """Send one `workspace/applyEdit`: whether the client applied it, else why not (it
    refused, did not answer within APPLY_TIMEOUT, or the request failed)."""
    params = types.ApplyWorkspaceEditParams(edit=edit, label=label)
    try:
        result = await asyncio.wait_for(server.workspace_apply_edit_async(params), APPLY_TIMEOUT)
    except TimeoutError:
        return False, f"the client did not answer workspace/applyEdit in {APPLY_TIMEOUT:.0f} s"
    except Exception as error:
        return False, f"workspace/applyEdit failed: {error}"
    if not result.applied:
        reason = result.failure_reason or "no reason given"
        return False, f"the client did not apply the edit: {reason}"
    return True, ""


def can_delete(server: SpecloomLanguageServer) -> bool:
    workspace = server.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    return edit is not None and types.ResourceOperationKind.Delete in (
        edit.resource_operations or []
    )


def whole_text_range(server: SpecloomLanguageServer, text: str) -> types.Range:
    """The range of all of `text`, in the client's position units."""
    lines = text.split("\n")
    end = types.Position(len(lines) - 1, len(lines[-1]))
    codec = server.workspace.position_codec
    return types.Range(
        types.Position(0, 0), codec.position_to_client_units([f"{line}\n" for line in lines], end)
    )


class EditorCommitter:
    """Commits a run's changes through the editor (see the module's docstring)."""

    def __init__(self, server: SpecloomLanguageServer, spec_uri: str, out_dir: Path) -> None:
        self.server = server
        self.spec_uri = spec_uri
        self.out_dir = out_dir
        self.how = "none"
        """How the files went: "applyEdit", "written", or "none"."""
        self.why = ""
        """Why they were written rather than applied through the editor."""
        self.unsaved: list[str] = []
        """Files open with unsaved changes: not replaced."""
        self.not_saved: list[str] = []
        """Files the editor took in the edit but has not saved yet."""

    async def __call__(self, changes: list[FileChange]) -> list[str]:
        from specloom.pipeline.staging import write_changes_now

        changes = self._leave_unsaved(changes)
        if not changes:
            return []
        able, why = can_apply(self.server)
        if able:
            try:
                edit = self._edit(changes)
            except UnicodeDecodeError:
                able, why = False, "a generated file is not UTF-8 text"
        if able:
            applied, why = await send_edit(self.server, edit, LABEL)
            if applied:
                self.how = "applyEdit"
                self.not_saved = [c.path for c in changes if not _on_disk(c)]
                if self.not_saved:
                    logger.info(
                        "%d generated files are changed in the editor, not saved yet: %s",
                        len(self.not_saved),
                        ", ".join(self.not_saved[:10]),
                    )
                deletes = [c for c in changes if c.kind == "delete"]
                if deletes and not can_delete(self.server):
                    write_changes_now(deletes)  # the client cannot delete in an edit
                return [change.path for change in changes]
        logger.info(
            "generated files written to %s, not applied in the editor: %s", self.out_dir, why
        )
        self.how, self.why = "written", why
        return write_changes_now(changes)

    def _leave_unsaved(self, changes: list[FileChange]) -> list[FileChange]:
        kept: list[FileChange] = []
        for change in changes:
            document = self.server.workspace.text_documents.get(change.target.as_uri())
            if document is not None and change.kind != "create":
                try:
                    on_disk = change.target.read_bytes().decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    on_disk = None
                if document.source != on_disk:
                    logger.warning(
                        "%s has unsaved changes in the editor: the generated version is not "
                        "applied to it",
                        change.path,
                    )
                    self.unsaved.append(change.path)
                    continue
            kept.append(change)
        return kept

    def _edit(self, changes: list[FileChange]) -> types.WorkspaceEdit:
        creates: list[types.CreateFile] = []
        edits: list[types.TextDocumentEdit] = []
        deletes: list[types.DeleteFile] = []
        for change in changes:
            uri = change.target.as_uri()
            if change.kind == "delete":
                deletes.append(
                    types.DeleteFile(
                        uri=uri, options=types.DeleteFileOptions(ignore_if_not_exists=True)
                    )
                )
                continue
            text = change.data.decode("utf-8")
            document = self.server.workspace.text_documents.get(uri)
            version: int | None = None
            if change.kind == "create":
                creates.append(
                    types.CreateFile(
                        uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)
                    )
                )
                current = ""
            elif document is not None:
                version, current = document.version, document.source
            else:
                current = change.target.read_bytes().decode("utf-8")
            edits.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=[
                        types.TextEdit(range=whole_text_range(self.server, current), new_text=text)
                    ],
                )
            )
        document_changes: list[Any] = [*creates, *edits]
        if can_delete(self.server):
            document_changes.extend(deletes)
        return types.WorkspaceEdit(document_changes=document_changes)

    def report(self, result: CommitResult | None) -> dict[str, Any]:
        """The output part of the command's summary; publishes the conflicts."""
        from specloom_lsp.features.conflicts import board

        if result is None:
            return {"applied": "none"}
        board(self.server).update(self.spec_uri, self.out_dir, result)
        output: dict[str, Any] = {
            "applied": self.how,
            "written": result.written,
            "unchanged": result.unchanged,
            "conflicts": [conflict.model_dump() for conflict in result.conflicts],
            "deleted": result.deleted,
            "left": result.left,
            "kept": result.kept,
            "not_applied": result.not_applied,
        }
        if self.why:
            output["written_because"] = self.why
        if self.unsaved:
            output["unsaved_changes_kept"] = self.unsaved
        if self.not_saved:
            output["not_saved_yet"] = self.not_saved
        return output


def _on_disk(change: FileChange) -> bool:
    """Whether the change has reached the disk."""
    try:
        data: bytes | None = change.target.read_bytes()
    except OSError:
        data = None
    return data is None if change.kind == "delete" else data == change.data
