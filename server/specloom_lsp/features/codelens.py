"""Code lenses of a spec: Plan, Generate and Validate above its title (the commands
`specloom.plan`, `specloom.generate`, `specloom.validate` take the spec's URI as their
first argument); after a run, the status of each flow's generated tests above the
flow ("✓ 7 tests pass", "✗ 2 of 7 tests fail", or why they did not run). The client
is asked to refresh its lenses when a run ends."""

from __future__ import annotations

from lsprotocol import types

from specloom_lsp.outline import outline
from specloom_lsp.server import SpecloomLanguageServer

STATUS = "specloom.status"
LENSES = (
    ("Plan", "specloom.plan"),
    ("Generate", "specloom.generate"),
    ("Validate", "specloom.validate"),
)


def setup(server: SpecloomLanguageServer) -> None:
    @server.on(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(params: types.CodeLensParams) -> list[types.CodeLens] | None:
        uri = params.text_document.uri
        if uri not in server.documents:
            return None
        from specloom.spec.compiler import MAX_SPEC_BYTES

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
        lenses = [
            types.CodeLens(
                range=where,
                command=types.Command(title=title, command=command, arguments=[uri]),
            )
            for title, command in LENSES
        ]
        return lenses + await flow_lenses(server, uri)


async def flow_lenses(server: SpecloomLanguageServer, uri: str) -> list[types.CodeLens]:
    """The test status of each flow, from the spec's latest run."""
    status = server.test_status.get(uri)
    if status is None:
        return []
    compiled = await server.compiled(uri)
    if compiled is None:
        return []
    lenses = []
    for flow in compiled.result.ir.behaviour.flows:
        title = status.title(flow.id)
        if title is None:
            continue
        where = server.to_client_range(compiled.lines, flow.range)
        line = types.Range(start=where.start, end=where.start)
        lenses.append(
            types.CodeLens(
                range=line,
                command=types.Command(title=title, command=STATUS, arguments=[uri]),
            )
        )
    return lenses
