"""Completion in spec documents: section headings at line starts, field types after
`name: `, constraints after a field's type, entity names where a type or an entity
is expected, field names after `Entity.` or `record.`, enum states, HTTP methods in
Endpoints, step keywords and status codes in Flows."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types

from specloom_lsp.outline import outline
from specloom_lsp.server import SpecloomLanguageServer

if TYPE_CHECKING:
    from specloom.ir.application import ApplicationIR
    from specloom.ir.domain import Entity

Kind = types.CompletionItemKind

SECTIONS = (
    ("Entities", "the records the app stores: `### Entity` headings with field lines"),
    ("Endpoints", "one HTTP operation per list line: `- F1. POST /books: ...`"),
    ("Flows", "`### F1. Name` headings with one step per list line"),
    ("Rules", "invariants checked on every write, one per list line"),
    ("Errors", "the status each kind of failure answers"),
    ("Overview", "prose for people; not compiled"),
)
TYPES = (
    ("string", "a single-line text"),
    ("text", "a long text"),
    ("integer", "a whole number"),
    ("decimal(12,2)", "a decimal: precision and scale"),
    ("boolean", "true or false"),
    ("date", "YYYY-MM-DD"),
    ("datetime", "ISO 8601, UTC"),
    ("uuid", "a UUID"),
    ("email", "a text that must be an email address"),
    ("url", "a text that must be a URL"),
    ("enum A | B", "states in capitals"),
    ("list of ", "the records of an entity that refer back to this one"),
)
CONSTRAINTS = (
    ("required", "a value must be given"),
    ("optional", "may be left out (the default)"),
    ("unique", "no two records share the value"),
    ("read-only", "never taken from a request"),
    ("default ", "the value when none is given"),
    ("max length ", "at most N characters"),
    ("min length ", "at least N characters"),
    ("pattern `", "a regular expression the value matches"),
    (">= ", "a lower bound"),
    ("<= ", "an upper bound"),
    ("between ", "between A and B, both included"),
    ("set on create", "the time the record is created"),
    ("set on update", "the time the record is updated"),
    ("unique together with ", "unique with other fields"),
)
METHODS = (
    ("GET", "read"),
    ("POST", "create, or an action"),
    ("PUT", "replace"),
    ("PATCH", "update some fields"),
    ("DELETE", "delete"),
    ("CRUD", "create, list, get, update and delete"),
)
STEPS = (
    ("Require ", 'a guard: `Require <condition>, else <status> "<message>"`'),
    ("Set ", "`Set record.field to <value>`"),
    ("Increase ", "`Increase record.field by <amount>`"),
    ("Decrease ", "`Decrease record.field by <amount>`"),
    ("Create a ", "`Create a <Entity> with <field>, ...`"),
    ("Find the ", "`Find the <Entity> of <record>; if found, use it.`"),
    ("For each ", "`For each <name> in <collection>:` with nested steps"),
    ("If ", "`If <condition>:` with nested steps"),
    ("Otherwise", "the other branch of `If` or `Find`"),
    ("Delete ", "`Delete the <record>`"),
    ("Respond ", "`Respond <status> with the <record>`"),
)
ERROR_STATUSES = (
    ("400", "Bad Request"),
    ("401", "Unauthorized"),
    ("403", "Forbidden"),
    ("404", "Not Found"),
    ("409", "Conflict"),
    ("410", "Gone"),
    ("422", "Unprocessable Content"),
    ("423", "Locked"),
    ("429", "Too Many Requests"),
)
SUCCESS_STATUSES = (("200", "OK"), ("201", "Created"), ("202", "Accepted"), ("204", "No Content"))

_FIELD_TYPE = re.compile(r"^\s*[-*+]\s+[A-Za-z_][A-Za-z0-9_]*\s*:\s*([A-Za-z(]*)$")
_FIELD_AFTER = re.compile(r"^\s*[-*+]\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^,]*),")
_LIST_OF = re.compile(r"\b(?:list|set)\s+of\s+([A-Za-z]*)$", re.I)
_CREATE = re.compile(r"\b(?:Create|Find)\s+(?:a|an|the|new)\s+([A-Za-z]*)$", re.I)
_DOTTED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.([A-Za-z_0-9]*)$")
_STATUS = re.compile(r"\b(?:else|otherwise)\s*,?\s*(\d{0,3})$", re.I)
_RESPOND = re.compile(r"\bRespond\s+(\d{0,3})$", re.I)
_STATE_AFTER = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s+"
    r"(?:is not|is|=|!=|to|with status|status)\s+([A-Z_]*)$"
)
_DEFAULT = re.compile(r"\b(?:default|defaults to|default is|default:)\s+([A-Z_]*)$", re.I)
_LIST_START = re.compile(r"^\s*[-*+]\s+(?:[A-Z]{1,4}\d+(?:\.\d+)*[.:)]\s+)?([A-Za-z]*)$")
_STEP_START = re.compile(r"^\s*[-*+]\s+([A-Za-z]*)$")
_HEADING_START = re.compile(r"^(#{0,2})\s?([A-Za-z]*)$")


def _items(
    pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]], kind: Kind, sort: str = "1"
) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=label.strip(),
            kind=kind,
            detail=detail,
            insert_text=label,
            sort_text=f"{sort}{n:03d}",
        )
        for n, (label, detail) in enumerate(pairs)
    ]


def _entity_items(ir: ApplicationIR) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=entity.name,
            kind=Kind.Class,
            detail=f"entity, {len(entity.fields)} fields",
            sort_text=f"0{n:03d}",
        )
        for n, entity in enumerate(ir.domain.entities)
    ]


def _resolve(ir: ApplicationIR, path: str, current: Entity | None) -> Entity | None:
    """The entity a dotted path ends on: `Loan`, `loan`, `loan.book`."""
    from specloom.spec.names import EntityNames

    names = EntityNames([e.name for e in ir.domain.entities])
    parts = path.split(".")
    head = parts[0]
    entity = ir.domain.entity(head) if head[:1].isupper() else None
    if entity is None:
        found = names.find(head)
        entity = ir.domain.entity(found) if found else None
    if entity is None and current is not None:
        field = current.field(head)
        if field is not None and field.type.entity:
            entity = ir.domain.entity(field.type.entity)
    for part in parts[1:]:
        if entity is None:
            return None
        field = entity.field(part)
        if field is None or not field.type.entity:
            return None
        entity = ir.domain.entity(field.type.entity)
    return entity


def _enum_states(ir: ApplicationIR, path: str, current: Entity | None) -> list[str]:
    head, _, last = path.rpartition(".")
    owner = _resolve(ir, head, current) if head else current
    if owner is None:
        return []
    field = owner.field(last)
    return list(field.type.values) if field is not None and field.type.kind == "enum" else []


def complete(
    ir: ApplicationIR, lines: list[str], line: int, column: int
) -> list[types.CompletionItem]:
    text = lines[line] if line < len(lines) else ""
    prefix = text[:column]
    shape = outline(lines)
    section = shape.section_at(line)
    kind = section.kind if section is not None and section.line != line else None
    block = shape.block_at(line)
    current = ir.domain.entity(block.title) if block is not None and kind == "entities" else None

    if _HEADING_START.fullmatch(prefix) and (prefix.startswith("#") or not prefix):
        items = _items([(f"## {name}", detail) for name, detail in SECTIONS], Kind.Keyword, "2")
        if prefix.startswith("#"):
            for item in items:  # replace the hashes already typed
                item.text_edit = types.TextEdit(
                    range=types.Range(types.Position(line, 0), types.Position(line, column)),
                    new_text=item.insert_text or item.label,
                )
        if prefix:
            return items
        section_items = items
    else:
        section_items = []

    if match := _DOTTED.search(prefix):
        entity = _resolve(ir, match.group(1), current)
        if entity is not None:
            return [
                types.CompletionItem(
                    label=field.name,
                    kind=Kind.Field,
                    detail=f"{entity.name}.{field.name}: {field.type.describe()}",
                    sort_text=f"0{n:03d}",
                )
                for n, field in enumerate(entity.fields)
            ]
    if _LIST_OF.search(prefix) or _CREATE.search(prefix):
        return _entity_items(ir)

    if kind == "entities":
        if _FIELD_TYPE.match(prefix):
            return _entity_items(ir) + _items(TYPES, Kind.TypeParameter)
        if field_match := _FIELD_AFTER.match(prefix):
            if default := _DEFAULT.search(prefix):
                _ = default
                states = _enum_states(ir, field_match.group(1), current)
                return [
                    types.CompletionItem(label=s, kind=Kind.EnumMember, detail="enum state")
                    for s in states
                ]
            if re.search(r",\s*[a-z<>=-]*$", prefix):
                return _items(CONSTRAINTS, Kind.Keyword)
    if kind == "endpoints" and (start := _LIST_START.match(prefix)):
        _ = start
        return _items(METHODS, Kind.Keyword)
    if kind in {"flows", "rules"}:
        if _STATUS.search(prefix):
            return _items(ERROR_STATUSES, Kind.Value)
        if _RESPOND.search(prefix):
            return _items(SUCCESS_STATUSES + ERROR_STATUSES, Kind.Value)
        if state := _STATE_AFTER.search(prefix):
            states = _enum_states(ir, state.group(1), current)
            if states:
                return [
                    types.CompletionItem(label=s, kind=Kind.EnumMember, detail="enum state")
                    for s in states
                ]
        if kind == "flows" and _STEP_START.match(prefix):
            return _items(STEPS, Kind.Keyword)
    return section_items


def setup(server: SpecloomLanguageServer) -> None:
    @server.on(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", ":", " ", "#"], resolve_provider=False),
    )
    def completion(params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        document = server.documents.get(uri)
        if document is None:
            return None
        text = server.workspace.get_text_document(uri).source
        lines = text.splitlines()
        if text.endswith("\n") or not lines:
            lines.append("")
        if params.position.line >= len(lines):
            return types.CompletionList(is_incomplete=False, items=[])
        line, column = server.from_client_position(lines, params.position)
        from specloom.ir.application import ApplicationIR

        best = document.best
        ir = best.result.ir if best is not None else ApplicationIR()
        return types.CompletionList(is_incomplete=False, items=complete(ir, lines, line, column))
