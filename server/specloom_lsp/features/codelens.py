"""Code lenses of a spec: Plan, Generate and Validate above its title. The commands
(`specloom.plan`, `specloom.generate`, `specloom.validate`) take the spec's URI as
their first argument."""

from __future__ import annotations

from lsprotocol import types
from specloom.spec.compiler import MAX_SPEC_BYTES

from specloom_lsp.outline import outline
from specloom_lsp.server import SpecloomLanguageServer

LENSES = (
    ("Plan", "specloom.plan"),
    ("Generate", "specloom.generate"),
    ("Validate", "specloom.validate"),
)


def setup(server: SpecloomLanguageServer) -> None:
    @server.on(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(params: types.CodeLensParams) -> list[types.CodeLens] | None:
        uri = params.text_document.uri
        if uri not in server.documents:
            return None
        text = server.workspace.get_text_document(uri).source
        if len(text) > MAX_SPEC_BYTES:
            return []
        lines = text.splitlines()
        line = outline(lines).title_line
        if line is None:
            line = 0
        width = len(lines[line]) if line < len(lines) else 0
        where = types.Range(
            start=types.Position(line, 0),
            end=server.workspace.position_codec.position_to_client_units(
                lines, types.Position(line, width)
            )
            if lines
            else types.Position(line, 0),
        )
        return [
            types.CodeLens(
                range=where,
                command=types.Command(title=title, command=command, arguments=[uri]),
            )
            for title, command in LENSES
        ]
