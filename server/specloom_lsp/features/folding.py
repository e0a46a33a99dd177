"""Folding ranges of a spec: one per `##` section, one per `###` entity or flow block."""

from __future__ import annotations

from lsprotocol import types

from specloom_lsp.outline import outline
from specloom_lsp.server import SpecloomLanguageServer

FOLDED_BLOCKS = frozenset({"entities", "flows"})


def folding_ranges(lines: list[str]) -> list[types.FoldingRange]:
    ranges: list[types.FoldingRange] = []
    for section in outline(lines).sections:
        if section.end > section.line:
            ranges.append(
                types.FoldingRange(
                    start_line=section.line,
                    end_line=section.end,
                    kind=types.FoldingRangeKind.Region,
                    collapsed_text=f"## {section.title}",
                )
            )
        if section.kind not in FOLDED_BLOCKS:
            continue
        for block in section.blocks:
            if block.end > block.line:
                ranges.append(
                    types.FoldingRange(
                        start_line=block.line,
                        end_line=block.end,
                        kind=types.FoldingRangeKind.Region,
                        collapsed_text=f"### {block.title}",
                    )
                )
    return ranges


def setup(server: SpecloomLanguageServer) -> None:
    @server.on(types.TEXT_DOCUMENT_FOLDING_RANGE)
    def folding(params: types.FoldingRangeParams) -> list[types.FoldingRange] | None:
        uri = params.text_document.uri
        if uri not in server.documents:
            return None
        from specloom.spec.compiler import MAX_SPEC_BYTES

        text = server.workspace.get_text_document(uri).source
        if len(text) > MAX_SPEC_BYTES:
            return []
        return folding_ranges(text.splitlines())
