"""Hover: the compiled model of the element under the cursor, as Markdown."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types

from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.ir.application import ApplicationIR
    from specloom.ir.domain import Entity, Field

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def entity_markdown(entity: Entity) -> str:
    from specloom_lsp.model import constraints

    lines = [f"**entity** `{entity.name}`"]
    if entity.description:
        lines += ["", entity.description]
    lines += ["", "| field | type | constraints |", "|---|---|---|"]
    for field in entity.fields:
        rules = ", ".join(constraints(field)).replace("|", "\\|")
        kind = field.type.describe().replace("|", "\\|")
        lines.append(f"| `{field.name}` | {kind} | {rules} |")
    for together in entity.unique_together:
        lines += ["", "unique together: " + ", ".join(f"`{f}`" for f in together.fields)]
    return "\n".join(lines)


def field_markdown(entity: Entity, field: Field) -> str:
    from specloom_lsp.model import constraints

    lines = [f"**field** `{entity.name}.{field.name}`: `{field.type.describe()}`"]
    if field.json_name != field.name:
        lines.append(f"\nsent and returned as `{field.json_name}`")
    found = constraints(field)
    if found:
        lines += ["", "constraints: " + ", ".join(found)]
    if field.requirement_ids:
        lines += ["", "requirements: " + ", ".join(f"`{r}`" for r in field.requirement_ids)]
    return "\n".join(lines)


def markdown_at(
    ir: ApplicationIR, line: int, column: int, text_line: str
) -> tuple[str, object] | None:
    from specloom.ir.common import SourceRange
    from specloom.spec.names import EntityNames

    from specloom_lsp.model import element_at, flow_endpoint, step_text

    found = element_at(ir, line, column)
    if found is not None and found.kind == "field" and found.entity and found.field:
        # on the type of a field that refers to an entity, show that entity
        type_range = found.field.type.range
        target = ir.domain.entity(found.field.type.entity or "")
        if target is not None and type_range.contains(line, column):
            return entity_markdown(target), type_range
        return field_markdown(found.entity, found.field), found.range
    if found is not None and found.kind == "entity" and found.entity:
        return entity_markdown(found.entity), found.range
    if found is not None and found.kind == "endpoint" and found.endpoints:
        parts = []
        for endpoint in found.endpoints:
            requirement = ir.validation.requirement(endpoint.id)
            part = [f"**endpoint** `{endpoint.id}`: `{endpoint.method} {endpoint.path}`"]
            if endpoint.summary:
                part.append(f"\n{endpoint.summary}")
            part.append(f"\nkind: {endpoint.kind} of `{endpoint.entity}`")
            if endpoint.flow:
                part.append(f"\nflow: `{endpoint.flow}`")
            if requirement is not None:
                part.append(
                    f"\nrequirement `{requirement.id}` ({requirement.category.replace('_', ' ')})"
                )
            parts.append("\n".join(part))
        return "\n\n---\n\n".join(parts), found.range
    if found is not None and found.kind == "flow" and found.flow:
        flow = found.flow
        linked = flow_endpoint(ir, flow)
        lines = [f"**flow** `{flow.id}`: {flow.name}"]
        if linked is not None:
            lines += ["", f"`{linked.method} {linked.path}`"]
        requirement = ir.validation.requirement(flow.id)
        if requirement is not None:
            lines += ["", f"requirement `{requirement.id}`"]
        if flow.inputs:
            inputs = ", ".join(
                f"`{i.name}`" + (" (optional)" if i.optional else "") for i in flow.inputs
            )
            lines += ["", f"inputs: {inputs}"]
        if flow.steps:
            lines += ["", "steps:"]
            lines += [f"{n}. {step_text(step)}" for n, step in enumerate(flow.steps, 1)]
        return "\n".join(lines), found.range
    if found is not None and found.kind == "rule" and found.rule:
        rule = found.rule
        lines = [
            f"**rule** `{rule.id}`: {rule.body.kind.replace('_', ' ')} on `{rule.body.entity}`"
        ]
        lines += ["", rule.text, "", f"a write that breaks it answers {rule.status}"]
        return "\n".join(lines), found.range
    # a word naming an entity anywhere in the text
    for match in _WORD.finditer(text_line):
        if match.start() <= column <= match.end():
            name = EntityNames([e.name for e in ir.domain.entities]).find(match.group())
            entity = ir.domain.entity(name) if name else None
            if entity is not None:
                return entity_markdown(entity), SourceRange.of(
                    line, match.start(), line, match.end()
                )
    return None


def setup(server: SpecloomLanguageServer) -> None:
    @server.on(types.TEXT_DOCUMENT_HOVER)
    async def hover(params: types.HoverParams) -> types.Hover | None:
        compiled = await server.compiled(params.text_document.uri)
        if compiled is None:
            return None
        lines = compiled.lines
        if params.position.line >= len(lines):
            return None
        line, column = server.from_client_position(lines, params.position)
        answer = markdown_at(compiled.result.ir, line, column, lines[line])
        if answer is None:
            return None
        text, where = answer
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=server.to_client_range(lines, where),
        )
