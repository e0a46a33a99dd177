"""Small pieces of Python source the emitters share: literals, docstrings, imports."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from specloom.ir.common import Value


def py_string(text: str) -> str:
    """A Python string literal, double-quoted as ruff formats it."""
    body = repr(text)
    if body.startswith("'") and '"' not in text:
        body = '"' + body[1:-1].replace("\\'", "'") + '"'
    return body


def py_value(value: Value) -> str:
    """The Python expression of a literal written in the spec."""
    if value.kind == "null":
        return "None"
    if value.kind == "boolean":
        return "True" if value.text == "true" else "False"
    if value.kind == "integer":
        return str(int(value.text))
    if value.kind == "decimal":
        return f'Decimal("{Decimal(value.text)}")'
    return py_string(value.text)


def py_field_value(value: Value, kind: str, imports: Imports) -> str:
    """A literal stored in a field of `kind`: a whole number in a decimal field is a Decimal."""
    if kind == "decimal" and value.kind in ("integer", "decimal"):
        imports.add("decimal", "Decimal")
        return f'Decimal("{Decimal(value.text)}")'
    return py_value(value)


def docstring(summary: str, requirements: Iterable[str] = (), indent: str = "    ") -> str:
    """A docstring whose last line names the requirements the code implements."""
    ids = list(dict.fromkeys(requirements))
    text = summary.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text and not text.endswith((".", "!", "?", ":")):
        text += "."
    width = 88 - len(indent)
    text = "\n".join(
        paragraph
        if len(paragraph) <= width
        else textwrap.fill(paragraph, width=width, subsequent_indent=indent)
        for paragraph in text.split("\n")
    )
    if not ids:
        return f'{indent}"""{text}"""\n'
    listed = "Requirements: " + ", ".join(ids) + "."
    if len(listed) + len(indent) <= 92:
        return f'{indent}"""{text}\n\n{indent}{listed}\n{indent}"""\n'
    listed = textwrap.fill(
        listed,
        width=92 - len(indent),
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return f'{indent}"""{text}\n\n{listed}\n{indent}"""\n'


@dataclass
class Imports:
    """The imports of one module; ruff sorts them when the tree is formatted."""

    names: dict[str, set[str]] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)
    typing_only: dict[str, set[str]] = field(default_factory=dict)

    def add(self, module: str, *names: str) -> None:
        self.names.setdefault(module, set()).update(names)

    def add_module(self, module: str) -> None:
        self.modules.add(module)

    def add_for_typing(self, module: str, *names: str) -> None:
        self.typing_only.setdefault(module, set()).update(names)

    def merge(self, other: Imports) -> None:
        for module, names in other.names.items():
            self.add(module, *names)
        self.modules |= other.modules
        for module, names in other.typing_only.items():
            self.add_for_typing(module, *names)

    def render(self, own_module: str = "") -> str:
        lines = ["from __future__ import annotations", ""]
        lines += [f"import {module}" for module in sorted(self.modules)]
        for module in sorted(self.names):
            if module == own_module:
                continue
            lines.append(f"from {module} import {', '.join(sorted(self.names[module]))}")
        typing = {
            module: names - self.names.get(module, set())
            for module, names in self.typing_only.items()
            if module != own_module
        }
        typing = {module: names for module, names in typing.items() if names}
        if typing:
            if "TYPE_CHECKING" not in self.names.get("typing", set()):
                lines.append("from typing import TYPE_CHECKING")
            lines += ["", "if TYPE_CHECKING:"]
            lines += [
                f"    from {module} import {', '.join(sorted(names))}"
                for module, names in sorted(typing.items())
            ]
        return "\n".join(lines) + "\n"


Part = tuple[str, Imports]
"""A block of a shared module (a router's handler, a rule's check) and its imports."""


def module_text(doc: str, imports: Imports, body: Iterable[str], own_module: str = "") -> str:
    """A whole module: docstring, imports, then the body's blocks two lines apart."""
    head = f'"""{doc.strip()}"""\n\n' if "\n" not in doc.strip() else f'"""{doc.strip()}\n"""\n\n'
    blocks = [block.strip("\n") for block in body if block.strip()]
    return head + imports.render(own_module) + "\n\n" + "\n\n\n".join(blocks) + "\n"
