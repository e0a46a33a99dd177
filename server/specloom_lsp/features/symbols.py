"""Document symbols of a spec: entities (their fields as children), endpoints, flows
and rules, each with the range of its text and the range of its name."""

from __future__ import annotations

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

Kind = types.SymbolKind


def setup(server: SpecloomLanguageServer) -> None:
    @server.on(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbols(
        params: types.DocumentSymbolParams,
    ) -> list[types.DocumentSymbol] | None:
        compiled = await server.compiled(params.text_document.uri)
        if compiled is None:
            return None
        from specloom_lsp.model import entity_block, flow_block

        ir = compiled.result.ir
        lines = compiled.lines

        def convert(range_: object) -> types.Range:
            return server.to_client_range(lines, range_)

        symbols: list[types.DocumentSymbol] = []
        for entity in ir.domain.entities:
            fields = [
                types.DocumentSymbol(
                    name=field.name,
                    detail=field.type.describe(),
                    kind=Kind.Field,
                    range=convert(field.range),
                    selection_range=convert(field.range),
                )
                for field in entity.fields
            ]
            symbols.append(
                types.DocumentSymbol(
                    name=entity.name,
                    detail="entity",
                    kind=Kind.Class,
                    range=convert(entity_block(entity)),
                    selection_range=convert(entity.range),
                    children=fields,
                )
            )
        for endpoint in ir.api.endpoints:
            symbols.append(
                types.DocumentSymbol(
                    name=f"{endpoint.id}. {endpoint.method} {endpoint.path}",
                    detail=endpoint.summary or endpoint.kind,
                    kind=Kind.Method,
                    range=convert(endpoint.range),
                    selection_range=convert(endpoint.range),
                )
            )
        for flow in ir.behaviour.flows:
            symbols.append(
                types.DocumentSymbol(
                    name=f"{flow.id}. {flow.name}",
                    detail="flow",
                    kind=Kind.Function,
                    range=convert(flow_block(flow)),
                    selection_range=convert(flow.range),
                )
            )
        for rule in ir.behaviour.rules:
            symbols.append(
                types.DocumentSymbol(
                    name=rule.id,
                    detail=rule.text,
                    kind=Kind.Property,
                    range=convert(rule.range),
                    selection_range=convert(rule.range),
                )
            )
        return symbols
