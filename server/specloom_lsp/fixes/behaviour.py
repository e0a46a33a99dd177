"""Quick fixes for diagnostics of flows and rules (SL4xx, SL5xx): step keywords,
names, entities, fields and states that are misspelt, flows linked to no endpoint,
steps after `Respond`, inputs and required fields left out."""

from __future__ import annotations

import re

from specloom.spec.names import words_of

from specloom_lsp.fixes.text import (
    Edit,
    Fix,
    Problem,
    change_word,
    find_word,
    list_item_start,
    nearest,
)

_STEP_WORDS = (
    "Require",
    "Ensure",
    "Set",
    "Increase",
    "Decrease",
    "Create",
    "Find",
    "Otherwise",
    "Else",
    "If",
    "Delete",
    "Remove",
    "Respond",
)
_INPUT_LINE = re.compile(r"(?i)^\s*inputs?\s*:")
_EACH_NOTE = re.compile(r"\s*\(\s*(?:each|all)\s+(?:optional|required)\s*\)\s*\.?\s*$", re.I)
_CAPITALS = re.compile(r"enum states are written in capitals: ([A-Z][A-Z0-9_]*)")
_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'")
_NAMES_HERE = re.compile(r"the names here are: (.*)$")
_STATES = re.compile(r"its states are: (.*)$")
_UNSET = re.compile(r"required fields? (.+?) unset")
_INPUT_TYPES = ("string", "integer", "decimal", "boolean", "date", "datetime")


def step_keyword(problem: Problem) -> list[Fix]:
    """SL401: the step keyword nearest to the first word of the step."""
    span = problem.span
    start = list_item_start(problem.line_text)
    if start != span.start or not re.fullmatch(r"[A-Za-z]+", span.text):
        return []
    return change_word(problem, span.text, _STEP_WORDS, at=span.start)


def unknown_name(problem: Problem) -> list[Fix]:
    """SL402: an enum state in capitals, the nearest name in scope, or a new input."""
    quoted = problem.quoted()
    message = problem.diagnostic.message
    if not quoted:
        return []
    name = quoted[0]
    if "add it to the 'Input:' line" in message:
        return add_input(problem, name)
    capitals = _CAPITALS.search(message)
    if capitals:
        return change_word(problem, name, [capitals.group(1)])
    here = _NAMES_HERE.search(message)
    options = _DID_YOU_MEAN.findall(message)
    if here:
        options += [n.strip() for n in re.sub(r" and \d+ more$", "", here.group(1)).split(",")]
    return change_word(problem, name, options)


def add_input(problem: Problem, name: str) -> list[Fix]:
    """`name` added to the flow's `Input:` line (or a new one under the heading)."""
    block = problem.outline.block_at(problem.line)
    if block is None:
        return []
    for number in range(block.line + 1, problem.line):
        text = problem.lines[number]
        if _INPUT_LINE.match(text):
            note = _EACH_NOTE.search(text)
            at = note.start() if note else len(text.rstrip().rstrip("."))
            edit = problem.replace(at, at, f", {name}", number)
            return [Fix(f"Add '{name}' to the Input line", (edit,))]
    edit = problem.insert_after(block.line, [f"Input: {name}"])
    return [Fix(f"Add 'Input: {name}'", (edit,))]


def unknown_entity(problem: Problem) -> list[Fix]:
    """SL403: the nearest entity, by its heading name."""
    quoted = problem.quoted()
    if not quoted:
        return []
    written = quoted[0]
    names = {e.name.lower(): e.name for e in problem.ir.domain.entities}
    best = nearest(re.sub(r"[\s_-]", "", written), list(names))
    column = find_word(problem.line_text, written, problem.span.start, problem.span.end)
    if column is None:
        return []
    return [
        Fix(
            f"Change to '{names[key.lower()]}'",
            (problem.replace(column, column + len(written), names[key.lower()]),),
            preferred=index == 0,
        )
        for index, key in enumerate(best)
    ]


def unknown_field(problem: Problem) -> list[Fix]:
    """SL404, SL503: the nearest field of the entity the message names."""
    quoted = problem.quoted()
    message = problem.diagnostic.message
    if not quoted:
        return []
    entity = problem.entity(message.split(" ", 1)[0])
    if entity is not None and f"has no field '{quoted[0]}'" in message:
        options = [f.name for f in entity.fields]
    else:
        options = _DID_YOU_MEAN.findall(message)
    return change_word(problem, quoted[-1] if entity is None else quoted[0], options)


def unknown_state(problem: Problem) -> list[Fix]:
    """SL405: one fix per state of the enum, the nearest preferred."""
    message = problem.diagnostic.message
    states = _STATES.search(message)
    written = message.split(" ", 1)[0]
    span = problem.span
    column = find_word(problem.line_text, written, span.start, span.end)
    if states is None or column is None:
        return []
    values = [s.strip() for s in states.group(1).split(",")]
    best = nearest(written, values, n=1)
    return [
        Fix(
            f"Use '{value}'",
            (problem.replace(column, column + len(written), value),),
            preferred=bool(best) and value == best[0],
        )
        for value in values
    ]


def flow_without_endpoint(problem: Problem) -> list[Fix]:
    """SL406: the ID of an endpoint, actions without a flow first (they need one)."""
    endpoints = problem.ir.api.endpoints
    flows = {f.id for f in problem.ir.behaviour.flows}
    candidates = [e for e in endpoints if e.explicit_id and not e.crud_group and e.id not in flows]
    candidates.sort(key=lambda e: e.kind != "action")
    span = problem.span
    match = re.match(r"([A-Z]{1,4}\d+(?:\.\d+)*)\s*[.:)]\s*", span.text)
    if match:
        written = match.group(1)
        ranked = nearest(written, [e.id for e in candidates], n=len(candidates), cutoff=0.3)
        actions = [e.id for e in candidates if e.kind == "action"]
        ranked.sort(key=lambda i: i not in actions)
        by_id = {e.id: e for e in candidates}
        return [
            Fix(
                f"Change the ID to '{i}' ({by_id[i].method} {by_id[i].path})",
                (problem.replace(span.start, span.start + len(written), i),),
                preferred=index == 0 and i in actions,
            )
            for index, i in enumerate(ranked[:3])
        ]
    return [
        Fix(
            f"Link to {e.id} ({e.method} {e.path})",
            (problem.replace(span.start, span.start, f"{e.id}. "),),
        )
        for e in candidates
        if e.kind == "action"
    ]


def step_after_respond(problem: Problem) -> list[Fix]:
    """SL409: move the step before the `Respond` it follows."""
    text = problem.line_text
    indent = len(text) - len(text.lstrip())
    block = problem.outline.block_at(problem.line)
    first = block.line if block else 0
    for number in range(problem.line - 1, first, -1):
        other = problem.lines[number]
        start = list_item_start(other)
        if start is None or len(other) - len(other.lstrip()) != indent:
            continue
        if other[start:].lower().startswith("respond"):
            edits = (
                Edit((number, 0), (number, 0), text + problem.newline),
                problem.delete_line(problem.line),
            )
            return [Fix("Move the step before 'Respond'", edits, True)]
    return []


def untyped_input(problem: Problem) -> list[Fix]:
    """SL411: the nearest field of the entities the input may be, or a type."""
    quoted = problem.quoted()
    message = problem.diagnostic.message
    if not quoted or "cannot tell the type of input" not in message:
        return []
    name = quoted[0]
    where = message.split("it is not a field of ", 1)[-1].split(";", 1)[0]
    options = [
        f.name
        for word in re.findall(r"\w+", where)
        if (entity := problem.entity(word)) is not None
        for f in entity.fields
    ]
    fixes = change_word(problem, name, options)
    span = problem.span
    if span.text == name:
        fixes += [
            Fix(
                f"Give '{name}' the type {kind}",
                (problem.replace(span.end, span.end, f" ({kind})"),),
            )
            for kind in _INPUT_TYPES
        ]
    return fixes


def required_unset(problem: Problem) -> list[Fix]:
    """SL412: the missing required fields added after `with`."""
    match = _UNSET.search(problem.diagnostic.message)
    span = problem.span
    if match is None:
        return []
    missing = [name.strip() for name in match.group(1).split(",")]
    body = span.text.rstrip()
    end = span.start + len(body.rstrip("."))
    with_at = re.search(r"\bwith\b", body)
    title = f"Add {', '.join(missing)} after 'with'"
    if with_at is None:
        text = f" with {', '.join(missing[:-1])}{' and ' if len(missing) > 1 else ''}{missing[-1]}"
        return [Fix(title, (problem.replace(end, end, text),))]
    listed = body[with_at.end() : end - span.start]
    edits = []
    last_and = listed.rfind(" and ")
    if last_and >= 0:
        at = span.start + with_at.end() + last_and
        edits.append(problem.replace(at, at + len(" and "), ", "))
    head = "".join(f", {name}" for name in missing[:-1])
    edits.append(problem.replace(end, end, f"{head} and {missing[-1]}"))
    return [Fix(title, tuple(edits))]


def unknown_rule_entity(problem: Problem) -> list[Fix]:
    """SL502: the nearest entity, named in words as rules name them."""
    span = problem.span
    options = [" ".join(words_of(e.name)) for e in problem.ir.domain.entities]
    return change_word(problem, span.text, options, at=span.start)
