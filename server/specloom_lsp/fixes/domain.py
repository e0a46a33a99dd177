"""Quick fixes for diagnostics of entities and fields (SL2xx): unknown types and
entities, enum defaults and states, duplicates, clashing constraints, collections
without a way back, names, and fields nothing sets."""

from __future__ import annotations

import re

from specloom.ir.behaviour import CreateStep, walk_steps
from specloom.spec.entities import SCALAR_TYPES
from specloom.spec.names import ENTITY_NAME, IDENTIFIER, plural, snake

from specloom_lsp.fixes.text import (
    Edit,
    Fix,
    Part,
    Problem,
    change_word,
    field_parts,
    find_word,
    list_item_start,
    nearest,
    remove_part,
)
from specloom_lsp.model import entity_block

_STATE = re.compile(r"[A-Z][A-Z0-9_]*")
_ENUM = re.compile(r"(?i)^enum\b\s*(?:of\s+)?")
_DEFAULT = re.compile(r"(?i)^(?:defaults?(?:\s+to|\s+is|:)?|=)\s+")
_FIELD_NAME = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+([A-Za-z_][\w-]*)\s*:")
_NEVER_REACHED = re.compile(r"so ([A-Z][A-Z0-9_]*) is never reached")
_CONSTRAINT_WORDS = (
    "required",
    "optional",
    "unique",
    "read-only",
    "set on create",
    "set on update",
    "positive",
    "non-negative",
)
_CONSTRAINT_PREFIXES = (
    "max length",
    "min length",
    "length",
    "pattern",
    "default",
    "defaults to",
    "unique together with",
    "at least",
    "at most",
    "between",
    "after",
    "before",
)
SKELETON_FIELD = "name: string, required"


def unknown_type(problem: Problem) -> list[Fix]:
    """SL201: the nearest type or entity; an enum's states in capitals."""
    span = problem.span
    text = span.text
    enum = _ENUM.match(text)
    if enum:
        states = [s.strip() for s in re.split(r"[|/]", text[enum.end() :]) if s.strip()]
        fixed = [re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").upper() for s in states]
        if not fixed or not all(_STATE.fullmatch(s) for s in fixed) or fixed == states:
            return []
        new = text[: enum.end()] + " | ".join(fixed)
        return [Fix(f"Change to '{new}'", (problem.replace(span.start, span.end, new),), True)]
    if not text:
        return []
    names = [e.name for e in problem.ir.domain.entities]
    collection = re.fullmatch(r"(\w+)\s+of\s+(\w+.*)", text)
    if collection and nearest(collection.group(1), ["list", "set"], n=1, cutoff=0.5):
        new = f"list of {collection.group(2)}"
        return [Fix(f"Change to '{new}'", (problem.replace(span.start, span.end, new),), True)]
    flat = {name.lower(): name for name in names}
    squeezed = re.sub(r"[\s_-]", "", text.lower())
    if squeezed in flat:
        name = flat[squeezed]
        return [Fix(f"Change to '{name}'", (problem.replace(span.start, span.end, name),), True)]
    return change_word(problem, text, [*SCALAR_TYPES, *names], at=span.start)


def dangling_reference(problem: Problem) -> list[Fix]:
    """SL204: the nearest entity, or a new entity section (and its CRUD endpoint)."""
    quoted = problem.quoted()
    if not quoted:
        return []
    name = quoted[0]
    fixes = change_word(problem, name, [e.name for e in problem.ir.domain.entities])
    compiled = {e.name for e in problem.ir.domain.entities}
    broken = any(  # an entity heading that did not compile: it may be the one meant
        block.title not in compiled
        for section in problem.outline.sections
        if section.kind == "entities"
        for block in section.blocks
    )
    added = add_entity(problem, name, preferred=not fixes and not broken)
    return [*fixes, *added]


def add_entity(problem: Problem, name: str, *, preferred: bool) -> list[Fix]:
    """A new `### Name` section after the last entity, with one field; when the spec
    has endpoints, also `CRUD /names` so the entity can be reached."""
    if not ENTITY_NAME.fullmatch(name):
        return []
    sections = [s for s in problem.outline.sections if s.kind == "entities"]
    if not sections:
        return []
    section = sections[-1]
    anchor = section.blocks[-1].end if section.blocks else section.end
    marker = _marker(problem)
    edits = [problem.insert_after(anchor, ["", f"### {name}", f"{marker}{SKELETON_FIELD}"])]
    title = f"Add entity '{name}'"
    endpoint = add_endpoint(problem, f"CRUD /{_collection(name)}")
    if endpoint is not None:
        edits.append(endpoint)
        title += f" with CRUD /{_collection(name)}"
    return [Fix(title, tuple(edits), preferred)]


def add_endpoint(problem: Problem, line: str) -> Edit | None:
    """A new endpoint line at the end of the Endpoints section, with the next ID when
    the endpoints have IDs; None when the spec has no endpoint."""
    endpoints = problem.ir.api.endpoints
    sections = [s for s in problem.outline.sections if s.kind == "endpoints"]
    if not endpoints or not sections:
        return None
    explicit = [e for e in endpoints if e.explicit_id]
    if explicit:
        prefix = re.match(r"[A-Z]+", explicit[0].crud_group or explicit[0].id)
        if prefix:
            line = f"{next_id(problem, prefix.group())}. {line}"
    return problem.insert_after(sections[-1].end, [f"{_marker(problem)}{line}"])


def next_id(problem: Problem, prefix: str) -> str:
    """`prefix` and one more than the highest number written after it in the spec."""
    numbers = [
        int(match.group(1))
        for text in problem.lines
        for match in re.finditer(rf"\b{re.escape(prefix)}(\d+)\b", text)
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def duplicate_entity(problem: Problem) -> list[Fix]:
    """SL202: the second section's new fields go into the first; the second goes."""
    block = problem.outline.block_at(problem.line)
    first = problem.entity(problem.span.text.strip())
    if block is None or first is None or block.line != problem.line:
        return []
    known = {f.name for f in first.fields}
    moved = []
    for number in range(block.line + 1, block.end + 1):
        text = problem.lines[number]
        match = _FIELD_NAME.match(text)
        if match and match.group(1) not in known:
            moved.append(text)
    stop = block.end + 1
    if stop < len(problem.lines) and not problem.lines[stop].strip():
        stop += 1
    if stop < len(problem.lines):
        remove = Edit((block.line, 0), (stop, 0), "")
    else:
        start = max(block.line - 1, 0)
        remove = Edit((start, len(problem.lines[start])), (block.end, len(problem.lines[-1])), "")
        if block.line == 0:
            remove = Edit((0, 0), (block.end, len(problem.lines[block.end])), "")
    edits = [remove]
    if moved:
        edits.insert(0, problem.insert_after(entity_block(first).end.line, moved))
    title = f"Merge into the first '{first.name}'" if moved else f"Remove this '{first.name}'"
    return [Fix(title, tuple(edits), True)]


def duplicate_field(problem: Problem) -> list[Fix]:
    """SL203: remove the second field line (preferred when both lines are the same)."""
    entity = problem.entity_at()
    quoted = problem.quoted()
    if entity is None or not quoted:
        return []
    first = entity.field(quoted[0])
    same = first is not None and (
        problem.lines[first.range.start.line].strip() == problem.line_text.strip()
    )
    return [Fix(f"Remove this '{quoted[0]}' field", (problem.delete_line(problem.line),), same)]


def enum_default(problem: Problem) -> list[Fix]:
    """SL205: one fix per state of the enum, the nearest preferred; or add the state."""
    found = problem.field_at()
    span = problem.span
    keyword = _DEFAULT.match(span.text)
    if found is None or keyword is None:
        return []
    _, field = found
    values = field.type.values
    start = span.start + keyword.end()
    written = span.text[keyword.end() :].strip()
    best = nearest(written.strip("\"'`").upper(), values, n=1)
    fixes = [
        Fix(
            f"Use default '{value}'",
            (problem.replace(start, span.end, value),),
            preferred=bool(best) and value == best[0],
        )
        for value in values
    ]
    if _STATE.fullmatch(written) and written not in values:
        end = field.type.range.end.column
        enum_text = problem.line_text[field.type.range.start.column : end]
        separator = " / " if "/" in enum_text and "|" not in enum_text else " | "
        fixes.append(
            Fix(
                f"Add state '{written}' to the enum",
                (problem.replace(end, end, separator + written),),
            )
        )
    return fixes


def contradictory(problem: Problem) -> list[Fix]:
    """SL207: drop one of the constraints that clash (required and optional; a default
    on a required field; required and read-only with nothing setting the field)."""
    found = problem.field_at()
    if found is None:
        return []
    _, field = found
    parts = field_parts(problem.line_text)

    def part(*names: str) -> Part | None:
        return next((p for p in parts[1:] if p.text.lower() in names), None)

    required = part("required")
    removable: list[Part] = []
    if field.required and field.optional:
        removable = [p for p in (part("optional"), required) if p]
    elif field.required and field.default is not None:
        default = next((p for p in parts[1:] if _DEFAULT.match(p.text)), None)
        removable = [p for p in (default, required) if p]
    elif field.required and field.read_only:
        removable = [p for p in (required, part("read-only", "read only", "readonly")) if p]
    return [
        Fix(
            f"Remove '{p.text}'",
            (remove_part(problem, problem.line, p, parts),),
        )
        for p in removable
    ]


def unknown_constraint(problem: Problem) -> list[Fix]:
    """SL208: the constraint nearest to what is written."""
    span = problem.span
    text = span.text
    options = list(_CONSTRAINT_WORDS)
    words = text.split()
    if any(text.lower().startswith(prefix) for prefix in _CONSTRAINT_PREFIXES):
        return []  # the constraint is known: what follows it is wrong
    for prefix in _CONSTRAINT_PREFIXES:
        size = len(prefix.split())
        if len(words) > size and nearest(" ".join(words[:size]), [prefix], cutoff=0.75):
            options.append(" ".join([prefix, *words[size:]]))
    return change_word(problem, text, options, at=span.start)


def unreachable_state(problem: Problem) -> list[Fix]:
    """SL209: remove the state from the enum when nothing else in the spec names it."""
    match = _NEVER_REACHED.search(problem.diagnostic.message)
    span = problem.span
    if match is None:
        return []
    state = match.group(1)
    elsewhere = any(
        find_word(text, state) is not None
        for number, text in enumerate(problem.lines)
        if number != problem.line
    )
    one = re.search(rf"\s*[|/]\s*{state}\b|\b{state}\s*[|/]\s*", span.text)
    if elsewhere or one is None:
        return []
    edit = problem.replace(span.start + one.start(), span.start + one.end(), "")
    return [Fix(f"Remove state '{state}'", (edit,))]


def field_line(problem: Problem) -> list[Fix]:
    """SL211: a field line without its colon (`due_on date, required`)."""
    start = list_item_start(problem.line_text)
    if start is None:
        return []
    match = re.match(r"([A-Za-z_]\w*)\s+([^,\s]+)", problem.line_text[start:])
    if match is None:
        return []
    kind = match.group(2)
    entities = {e.name for e in problem.ir.domain.entities}
    if (
        kind.lower() not in SCALAR_TYPES
        and kind not in entities
        and kind.lower()
        not in (
            "enum",
            "list",
            "set",
        )
        and not kind.lower().startswith("decimal")
    ):
        return []
    at = start + match.end(1)
    return [Fix(f"Add ':' after '{match.group(1)}'", (problem.replace(at, at, ":"),), True)]


def collection_way_back(problem: Problem) -> list[Fix]:
    """SL212: give the child its reference to the parent, or name it with `via`."""
    found = problem.field_at()
    if found is None:
        return []
    parent, field = found
    child = problem.entity(field.type.entity)
    if child is None:
        return []
    back = [
        f.name for f in child.fields if f.type.kind == "reference" and f.type.entity == parent.name
    ]
    span = problem.span
    if field.type.via and field.type.via not in back:
        return change_word(problem, field.type.via, back)
    if not back:
        # required, unless a flow creates the child (its Create step would lack it)
        created = any(
            isinstance(step, CreateStep) and step.entity == child.name
            for flow in problem.ir.behaviour.flows
            for step in walk_steps(flow.steps)
        )
        line = f"{snake(parent.name)}: {parent.name}" + ("" if created else ", required")
        edit = problem.insert_after(entity_block(child).end.line, [f"{_marker(problem)}{line}"])
        return [Fix(f"Add '{line}' to {child.name}", (edit,), True)]
    return [
        Fix(f"Hold them via '{name}'", (problem.replace(span.end, span.end, f" via {name}"),))
        for name in back
    ]


def invalid_name(problem: Problem) -> list[Fix]:
    """SL213: an entity name in CamelCase, a field name as an identifier."""
    span = problem.span
    text = span.text.strip()
    if problem.line_text.lstrip().startswith("###"):
        words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
        name = "".join(w[:1].upper() + w[1:] for w in words)
        if not ENTITY_NAME.fullmatch(name) or name == text:
            return []
    else:
        if re.search(r"\s|/", text):
            return []  # not a misspelt name: a line that is no field at all
        name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
        if not IDENTIFIER.fullmatch(name) or name in (text, "id"):
            return []
    edit = problem.replace(span.start, span.start + len(span.text), name)
    return [Fix(f"Rename to '{name}'", (edit,), True)]


def unknown_field_in_entity(problem: Problem) -> list[Fix]:
    """SL215: the nearest field of the entity."""
    quoted = problem.quoted()
    entity = problem.entity(problem.diagnostic.message.split(" ", 1)[0])
    if not quoted or entity is None:
        return []
    return change_word(problem, quoted[0], [f.name for f in entity.fields])


def unreachable_entity(problem: Problem) -> list[Fix]:
    """SL216: a CRUD endpoint for the entity."""
    entity = problem.entity_at()
    if entity is None:
        return []
    path = f"CRUD /{_collection(entity.name)}"
    edit = add_endpoint(problem, path)
    return [Fix(f"Add endpoint '{path}'", (edit,), True)] if edit else []


def never_set(problem: Problem) -> list[Fix]:
    """SL217: `set on create` for a time field; or drop `read-only`."""
    found = problem.field_at()
    if found is None:
        return []
    _, field = found
    parts = field_parts(problem.line_text)
    read_only = next((p for p in parts[1:] if p.text.lower().startswith("read")), None)
    fixes = []
    if field.type.kind in ("date", "datetime"):
        at = read_only.start if read_only else parts[-1].end
        text = "set on create, " if read_only else ", set on create"
        fixes.append(Fix("Add 'set on create'", (problem.replace(at, at, text),), True))
    if read_only is not None:
        fixes.append(
            Fix(
                f"Remove '{read_only.text}'",
                (remove_part(problem, problem.line, read_only, parts),),
            )
        )
    return fixes


def _collection(name: str) -> str:
    return plural(snake(name)).replace("_", "-")


def _marker(problem: Problem) -> str:
    """The list marker the spec's lines use (`- ` unless its first list line says not)."""
    for text in problem.lines:
        start = list_item_start(text)
        if start is not None and not text[:1].isspace():
            return text[:start]
    return "- "
