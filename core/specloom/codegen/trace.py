"""The trace map (`specloom-trace.json`): for each requirement ID, its range in the spec
and the ranges of the generated code and tests that name it.

Generated classes and functions name their requirements on the last line of their
docstring (`Requirements: F8, Loan.due_on.required.`); this reads them back from the
formatted files, so the map always matches the code as written.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from specloom.ir.application import ApplicationIR

_REQUIREMENTS = re.compile(r"(?:^|\n)\s*Requirements:\s*(.+?)\.?\s*\Z", re.DOTALL)

Located = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def named_requirements(docstring: str | None) -> list[str]:
    if not docstring:
        return []
    found = _REQUIREMENTS.search(docstring)
    if found is None:
        return []
    listed = " ".join(found.group(1).split())
    return [item.strip() for item in listed.split(", ") if item.strip()]


def code_locations(path: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    """(requirement ID, location) for every class or function of a module that names one."""
    tree = ast.parse(text)
    found: list[tuple[str, dict[str, Any]]] = []
    module_ids = named_requirements(ast.get_docstring(tree))
    for requirement in module_ids:
        found.append((requirement, {"path": path, "symbol": "", "range": _lines(1, 1)}))
    for node in ast.walk(tree):
        if not isinstance(node, Located):
            continue
        for requirement in named_requirements(ast.get_docstring(node)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            found.append(
                (requirement, {"path": path, "symbol": node.name, "range": _lines(start, end)})
            )
    return found


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
        for requirement, location in code_locations(path, files[path]):
            entry = entries.get(requirement)
            if entry is not None:
                entry[bucket].append(location)
    document = {"spec": spec_name, "ir_version": ir.ir_version, "requirements": entries}
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _spec_range(source: Any) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": source.start.line, "character": source.start.column},
        "end": {"line": source.end.line, "character": source.end.column},
    }
