"""Quick fixes for diagnostics of the document, its endpoints and its error policy
(SL1xx, SL3xx, SL6xx): section names, titles, duplicate IDs and lines, paths and
endpoint fields."""

from __future__ import annotations

import re

from specloom.spec.names import plural, snake
from specloom.spec.parser import SECTIONS

from specloom_lsp.fixes.domain import next_id
from specloom_lsp.fixes.text import Fix, Fixer, Problem, change_word

_SECTION_NAMES = ("Entities", "Endpoints", "Flows", "Rules", "Errors")
_ID = re.compile(r"^([A-Z]{1,4})(\d+)\b")


def unknown_section(problem: Problem) -> list[Fix]:
    """SL102: the nearest section name; or make the section prose (`Notes`)."""
    span = problem.span
    options = [*_SECTION_NAMES, *(name.title() for name in SECTIONS)]
    fixes = change_word(problem, span.text, options, at=span.start)[:1]
    fixes.append(
        Fix("Rename to 'Notes' (prose)", (problem.replace(span.start, span.end, "Notes"),))
    )
    return fixes


def second_title(problem: Problem) -> list[Fix]:
    """SL108: the second `#` title becomes a `##` section."""
    column = problem.line_text.find("#")
    if column < 0:
        return []
    return [Fix("Make it a '##' section", (problem.replace(column, column, "#"),), True)]


def duplicate_id(problem: Problem) -> list[Fix]:
    """SL107: a new ID for the second endpoint or rule with this one."""
    span = problem.span
    match = _ID.match(span.text)
    if match is None:
        return []
    new = next_id(problem, match.group(1))
    edit = problem.replace(span.start, span.start + match.end(), new)
    return [Fix(f"Change the ID to '{new}'", (edit,), True)]


def remove_line(title: str, *, preferred: bool) -> Fixer:
    def fix(problem: Problem) -> list[Fix]:
        return [Fix(title, (problem.delete_line(problem.line),), preferred)]

    return fix


def unknown_path(problem: Problem) -> list[Fix]:
    """SL302: the nearest collection: an entity's plural or a collection field."""
    span = problem.span
    message = problem.diagnostic.message
    misspelt = ("names no entity", "is neither a collection", "names neither an action")
    if not span.text or "/" in span.text or not any(m in message for m in misspelt):
        return []  # the segment is a name: what is wrong is elsewhere
    options: list[str] = []
    for entity in problem.ir.domain.entities:
        collection = plural(snake(entity.name))
        options += [collection.replace("_", "-"), collection]
        options += [f.name for f in entity.fields if f.type.kind == "collection"]
    return change_word(problem, span.text, options, at=span.start)


def path_parameter(problem: Problem) -> list[Fix]:
    """SL303: `:id` and parameters that do not name the id: the names the message gives
    (`{id}` only when the path has none yet)."""
    span = problem.span
    text = span.text
    if not re.fullmatch(r":\w+|\{\w+\}", text):
        return []
    path = problem.line_text.split()
    taken = any("{id}" in part for part in path)
    options = [
        name
        for name in re.findall(r"'(\{\w+\})'", problem.diagnostic.message.partition("write ")[2])
        if name != text and not (taken and name == "{id}")
    ]
    return [
        Fix(f"Change to '{new}'", (problem.replace(span.start, span.end, new),), index == 0)
        for index, new in enumerate(dict.fromkeys(options))
    ]


def unknown_endpoint_field(problem: Problem) -> list[Fix]:
    """SL305: the nearest field of the endpoint's entity."""
    endpoint = next(
        (e for e in problem.ir.api.endpoints if e.range.start.line == problem.line), None
    )
    entity = problem.entity(endpoint.entity) if endpoint else None
    quoted = problem.quoted()
    if entity is None or not quoted:
        return []
    names = [f.name for f in entity.fields if f.type.kind != "collection"]
    span = problem.span
    return change_word(problem, quoted[0], names, at=span.start)
