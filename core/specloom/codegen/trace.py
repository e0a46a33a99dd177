"""The trace map (`specloom-trace.json`): for each requirement ID, its range in the spec
and the ranges of the generated code and tests that name it.

Generated classes and functions name their requirements on the last line of their
docstring (`Requirements: F8, Loan.due_on.required.`); this reads them back from the
formatted files, so the map always matches the code as written.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from functools import cache
from itertools import accumulate
from typing import Any

from specloom.ir.application import ApplicationIR

_REQUIREMENTS = re.compile(r"(?:^|\n)\s*Requirements:\s*(.+?)\.?\s*\Z", re.DOTALL)


def named_requirements(docstring: str | None) -> list[str]:
    if not docstring:
        return []
    found = _REQUIREMENTS.search(docstring)
    if found is None:
        return []
    listed = " ".join(found.group(1).split())
    return [item.strip() for item in listed.split(", ") if item.strip()]


# A definition's header is `( *)(?:async +)?(?:def|class) +(\w+)` at the start of a line:
# found by its keyword, then its line checked (searching for `^...` line by line is slow).
_DEFINITIONS = (re.compile(r"def +(\w+)"), re.compile(r"class +(\w+)"))  # a literal each
_HEAD = re.compile(r"( *)(?:async +)?")
MARKER = "Requirements:"


def code_locations(path: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    """(requirement ID, location) for every class or function of a module that names one.

    A line scanner over ruff-formatted code (it parses nothing): a definition runs from
    its first decorator to the line before the next line indented no deeper than it.
    The headers and markers are found by searching the whole text (not line by line)."""
    if MARKER not in text:
        return []
    lines = text.split("\n")
    # the offset in `text` where each line starts
    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=0))
    events: dict[int, tuple[int, str] | int] = {}  # line -> header (indent, name) or marker
    hits = [hit for keyword in _DEFINITIONS for hit in keyword.finditer(text)]
    for header in sorted(hits, key=lambda hit: hit.start()):
        begins = text.rfind("\n", 0, header.start()) + 1
        head = _HEAD.fullmatch(text, begins, header.start())
        if head is not None:
            number = bisect_right(starts, begins) - 1
            events.setdefault(number, (len(head.group(1)), header.group(1)))
    position = text.find(MARKER)
    while position >= 0:
        number = bisect_right(starts, position) - 1
        events.setdefault(number, position - starts[number])  # a header line is no marker
        position = text.find(MARKER, starts[number + 1]) if number + 1 < len(lines) else -1
    found: list[tuple[str, dict[str, Any]]] = []
    headers: list[tuple[int, str, int]] = []  # indent, name, first line (0-based)
    for number in sorted(events):
        event = events[number]
        if isinstance(event, tuple):
            start = number
            while start > 0 and lines[start - 1].lstrip().startswith("@"):
                start -= 1
            headers.append((event[0], event[1], start))
            continue
        line = lines[number]
        listed = _listed(lines, number, event)
        indent = len(line) - len(line.lstrip())
        owner = next((h for h in reversed(headers) if h[0] < indent), None)
        if owner is None:
            location = {"path": path, "symbol": "", "range": _lines(1, 1)}
        else:
            end = _end_of(lines, owner[2], owner[0], text, starts)
            location = {"path": path, "symbol": owner[1], "range": _lines(owner[2] + 1, end)}
        found += [(requirement, location) for requirement in listed]
    return found


def _listed(lines: list[str], number: int, marker: int) -> list[str]:
    """The IDs of a `Requirements:` paragraph, which may run over several lines."""
    text = lines[number][marker + len("Requirements:") :]
    while not text.rstrip().rstrip('"').rstrip().endswith(".") and number + 1 < len(lines):
        number += 1
        if '"""' in lines[number] and not lines[number].strip().strip('"'):
            break
        text += " " + lines[number].strip()
    return named_requirements("Requirements:" + text.replace('"""', ""))


@cache
def _outdented(indent: int) -> re.Pattern[str]:
    """A line that ends a definition indented `indent`: not blank, indented no deeper,
    and not a closing bracket."""
    return re.compile(rf"\n[^\S\n]{{0,{indent}}}(?=\S)(?![)\]])")  # "\n" first: fast


def _end_of(lines: list[str], start: int, indent: int, text: str, starts: list[int]) -> int:
    """The last line (1-based) of the definition that starts at line `start` (0-based)."""
    header = start + 1
    while header < len(lines) and lines[header].lstrip().startswith("@"):
        header += 1
    stop = len(lines)
    if header + 1 < len(lines):
        outdented = _outdented(indent).search(text, starts[header + 1] - 1)
        if outdented is not None:
            stop = bisect_right(starts, outdented.start() + 1) - 1
    last = header
    for number in range(stop - 1, header, -1):
        if lines[number].strip():
            last = number
            break
    return last + 1


def _lines(start: int, end: int) -> dict[str, dict[str, int]]:
    """An LSP range (0-based) covering whole lines `start` to `end` (1-based)."""
    return {"start": {"line": start - 1, "character": 0}, "end": {"line": end, "character": 0}}


def trace_map(ir: ApplicationIR, files: dict[str, str], spec_name: str) -> str:
    entries: dict[str, dict[str, Any]] = {}
    for requirement in ir.validation.requirements:
        entries[requirement.id] = {
            "kind": requirement.kind,
            "text": requirement.text,
            "spec_range": _spec_range(requirement.range),
            "code": [],
            "tests": [],
        }
    for path in sorted(files):
        if not path.endswith(".py"):
            continue
        bucket = "tests" if path.startswith("tests/") else "code"
        for named, location in code_locations(path, files[path]):
            entry = entries.get(named)
            if entry is not None:
                entry[bucket].append(location)
    # One requirement per line: readable in a diff, and json's C encoder stays in use.
    rows = ",\n".join(
        f"    {json.dumps(key)}: {json.dumps(value)}" for key, value in entries.items()
    )
    head = f'{{\n  "spec": {json.dumps(spec_name)},\n  "ir_version": {json.dumps(ir.ir_version)},\n'
    return head + '  "requirements": {\n' + rows + "\n  }\n}\n"


def _spec_range(source: Any) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": source.start.line, "character": source.start.column},
        "end": {"line": source.end.line, "character": source.end.column},
    }
