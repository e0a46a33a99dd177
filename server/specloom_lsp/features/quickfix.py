"""Quick fixes (`textDocument/codeAction`, kind `quickfix`) for the compiler's
diagnostics on spec documents: for each diagnostic of the request's context that is
the server's own and still matches the latest compile, the fixes of
`specloom_lsp.fixes` as code actions, each with a workspace edit of the spec (versioned
`documentChanges` when the client takes them, else `changes`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.spec.diagnostics import Diagnostic

    from specloom_lsp.documents import Compiled
    from specloom_lsp.fixes import Fix

SOURCE = "specloom"
KIND = types.CodeActionKind.QuickFix


def wants_quick_fixes(only: Sequence[str] | None) -> bool:
    """Whether a request limited to the kinds `only` takes quick fixes."""
    if not only:
        return True
    return any(kind in ("", KIND) or KIND.startswith(f"{kind}.") for kind in only)


class QuickFixes:
    """The quick fixes of one server's spec documents."""

    def __init__(self, server: SpecloomLanguageServer) -> None:
        self.server = server

    async def actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        if uri not in self.server.documents or not wants_quick_fixes(params.context.only):
            return None
        asked = [d for d in params.context.diagnostics if _ours(d)]
        if not asked:
            return None
        compiled = await self.server.compiled(uri)
        current = self.server.workspace.get_text_document(uri).version
        if compiled is None or compiled.version != current:
            return None  # the text moved on while it compiled: no edit would fit it
        from specloom_lsp.fixes import fixes_for

        found = self._engine_diagnostics(compiled)
        actions: list[types.CodeAction] = []
        for diagnostic in asked:
            engine = found.get(_key(diagnostic))
            if engine is None:
                continue  # published for an older text: its fixes would not fit
            for fix in fixes_for(engine, compiled.text, compiled.result):
                actions.append(self._action(uri, compiled, diagnostic, fix))
        return actions

    def _engine_diagnostics(self, compiled: Compiled) -> dict[tuple[object, ...], Diagnostic]:
        lines = compiled.lines
        found: dict[tuple[object, ...], Diagnostic] = {}
        for item in compiled.result.diagnostics:
            where = self.server.to_client_range(lines, item.range)
            found.setdefault(_key_of(item.code, item.message, where), item)
        return found

    def _action(
        self, uri: str, compiled: Compiled, diagnostic: types.Diagnostic, fix: Fix
    ) -> types.CodeAction:
        lines = compiled.lines
        codec = self.server.workspace.position_codec
        edits = [
            types.TextEdit(
                range=types.Range(
                    start=codec.position_to_client_units(lines, types.Position(*edit.start)),
                    end=codec.position_to_client_units(lines, types.Position(*edit.end)),
                ),
                new_text=edit.new_text,
            )
            for edit in fix.edits
        ]
        return types.CodeAction(
            title=fix.title,
            kind=KIND,
            diagnostics=[diagnostic],
            is_preferred=True if fix.preferred else None,
            edit=self._workspace_edit(uri, compiled.version, edits),
        )

    def _workspace_edit(
        self, uri: str, version: int | None, edits: list[types.TextEdit]
    ) -> types.WorkspaceEdit:
        workspace = self.server.client_capabilities.workspace
        edit_capabilities = workspace.workspace_edit if workspace else None
        if edit_capabilities is not None and edit_capabilities.document_changes:
            document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)]
            )
        return types.WorkspaceEdit(changes={uri: edits})


def _ours(diagnostic: types.Diagnostic) -> bool:
    code = diagnostic.code
    return (
        diagnostic.source in (SOURCE, None)
        and isinstance(code, str)
        and code.startswith("SL")
        and code[2:].isdigit()
    )


def _key(diagnostic: types.Diagnostic) -> tuple[object, ...]:
    return _key_of(str(diagnostic.code), diagnostic.message, diagnostic.range)


def _key_of(code: str, message: str, where: types.Range) -> tuple[object, ...]:
    start, end = where.start, where.end
    return (code, message, start.line, start.character, end.line, end.character)


def setup(server: SpecloomLanguageServer) -> None:
    feature = QuickFixes(server)

    @server.on(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=False),
    )
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return await feature.actions(params)
