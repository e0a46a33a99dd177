"""Python source for generated tests: imports, literals, values relative to the clock.

Values of the oracle's world are concrete (dates around `REF_TODAY`); a test writes
them relative to its own clock: `now - timedelta(days=1)`, `today + timedelta(days=2)`.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from specloom.codegen.testgen.values import REF_NOW, REF_TODAY
from specloom.plan import naming
from specloom.spec.names import snake

HELPERS = {
    "iso": (
        "def iso(value: datetime) -> str:\n"
        '    """A naive UTC datetime as the API takes it."""\n'
        '    return value.isoformat() + "Z"\n'
    ),
    "utc": (
        "def utc(text: str) -> datetime:\n"
        '    """A datetime of a response, naive, in UTC."""\n'
        '    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)\n'
    ),
    "recent": (
        "def recent(value: datetime | None, now: datetime) -> bool:\n"
        '    """Set by the app at the time of the request (within a minute of `now`)."""\n'
        "    return value is not None and abs(value - now) < timedelta(minutes=1)\n"
    ),
}
HELPER_NEEDS = {"iso": ["datetime"], "utc": ["datetime"], "recent": ["datetime", "timedelta"]}


@dataclass(frozen=True)
class Raw:
    """A JSON value sent as written: a value of the wrong type (`"not-a-date"`)."""

    text: str


@lru_cache(maxsize=16384)
def text_source(text: str) -> str:
    """A string as Python; long runs of one character as `"x" * 200` so lines stay short
    (remembered: the same values are written test after test)."""
    pieces: list[str] = []
    plain = ""
    index = 0
    while index < len(text):
        end = index
        while end < len(text) and text[end] == text[index]:
            end += 1
        if end - index >= 30:
            if plain:
                pieces.append(py_string(plain))
                plain = ""
            pieces.append(f"{py_string(text[index])} * {end - index}")
        else:
            plain += text[index:end]
        index = end
    if plain or not pieces:
        pieces.append(string_source(plain))
    return pieces[0] if len(pieces) == 1 else "(" + " + ".join(pieces) + ")"


LONG = 64  # longer strings are written as implicit concatenations, one piece a line


def string_source(text: str) -> str:
    """A string literal; a long one as `("first words " "next words")`, which ruff
    formats one piece a line, so no line runs over the limit."""
    return fstring_source([(text, False)])


def fstring_source(pieces: list[tuple[str, bool]]) -> str:
    """A string of text pieces and expressions (`(text, True)` is `{text}`): an f-string
    where it has expressions, split into pieces of about LONG characters."""
    words: list[tuple[str, bool]] = []
    for text, expression in pieces:
        if expression:
            words.append((text, True))
            continue
        for word in re.split(r"(?<= )", text):
            if word:
                words.append((word, False))
    chunks: list[list[tuple[str, bool]]] = [[]]
    size = 0
    for word, expression in words:
        if size + len(word) > LONG and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append((word, expression))
        size += len(word)
    literals = [_literal(chunk) for chunk in chunks if chunk]
    if not literals:
        return '""'
    return literals[0] if len(literals) == 1 else "(" + " ".join(literals) + ")"


def _literal(chunk: list[tuple[str, bool]]) -> str:
    if not any(expression for _, expression in chunk):
        return py_string("".join(text for text, _ in chunk))
    body = ""
    for text, expression in chunk:
        if expression:
            body += "{" + text + "}"
        else:
            body += text.replace("{", "{{").replace("}", "}}")
    return "f" + py_string(body)


def comment_lines(text: str) -> list[str]:
    """A comment wrapped to the line length."""
    return ["# " + line for line in textwrap.wrap(text, width=94, break_long_words=False)]


def py_string(text: str) -> str:
    """A string literal, double-quoted as ruff formats it."""
    body = repr(text)
    if body.startswith("'") and '"' not in text:
        body = '"' + body[1:-1].replace("\\'", "'") + '"'
    return body


@dataclass
class Module:
    """One test module being written: its imports, helpers and test functions."""

    doc: str
    imports: dict[str, set[str]] = field(default_factory=dict)
    helpers: set[str] = field(default_factory=set)
    blocks: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    tests: bool = True  # a module of tests (not of helpers for them)

    def need(self, module: str, *names: str) -> None:
        self.imports.setdefault(module, set()).update(names)

    def helper(self, name: str) -> str:
        self.helpers.add(name)
        for needed in HELPER_NEEDS[name]:
            self.need("datetime", needed)
        return name

    def model(self, entity: str) -> str:
        self.need(naming.model_module(entity), entity)
        return entity

    def factory(self, entity: str) -> str:
        name = f"make_{snake(entity)}"
        self.need("tests.factories", name)
        return name

    def test_name(self, requirement: str, stem: str) -> str:
        """`test_<requirement>_<stem>`, unique in the module; a long name loses the end of
        its stem, never its requirement."""
        prefix = f"test_{naming.identifier(requirement)}"
        name = f"{prefix}_{stem}"[: max(90, len(prefix))].rstrip("_")
        number = 2
        base = name
        while name in self.names:
            name = f"{base}_{number}"
            number += 1
        self.names.add(name)
        return name

    def render(self) -> str:
        if self.tests and not any(block.startswith("def test_") for block in self.blocks):
            # no test takes the fixtures: their types are not needed
            self.imports.pop("fastapi.testclient", None)
            self.imports.pop("sqlalchemy.orm", None)
            if not self.blocks:
                self.blocks.append("# This module has no requirement to test.")
        lines = [f'"""{self.doc}"""', "", "from __future__ import annotations", ""]
        stdlib = [m for m in sorted(self.imports) if m.split(".")[0] in _STDLIB]
        third = [m for m in sorted(self.imports) if m.split(".")[0] in _THIRD_PARTY]
        local = [m for m in sorted(self.imports) if m not in stdlib and m not in third]
        for group in (stdlib, third, local):
            for module in group:
                if not self.imports[module]:
                    lines.append(f"import {module}")
            for module in group:
                if self.imports[module]:
                    lines.append(f"from {module} import {', '.join(sorted(self.imports[module]))}")
            if group:
                lines.append("")
        text = "\n".join(lines).rstrip("\n") + "\n"
        parts = [HELPERS[name] for name in sorted(self.helpers)] + self.blocks
        return text + "".join("\n\n" + part.rstrip("\n") + "\n" for part in parts)


_STDLIB = {"datetime", "decimal", "uuid", "typing", "collections"}
_THIRD_PARTY = {"pytest", "fastapi", "sqlalchemy", "pydantic"}


class Clock:
    """Tracks whether a test uses `now` / `today`, and writes values relative to them."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.now = False
        self.today = False

    def delta(self, amount: timedelta) -> str:
        self.module.need("datetime", "timedelta")
        seconds = int(amount.total_seconds())
        parts = []
        days, seconds = divmod(seconds, 86400)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        for name, number in (("days", days), ("hours", hours), ("minutes", minutes)):
            if number:
                parts.append(f"{name}={number}")
        if seconds or amount.microseconds or not parts:
            parts.append(f"seconds={seconds + amount.microseconds / 1e6:g}")
        return f"timedelta({', '.join(parts)})"

    def datetime(self, value: datetime) -> str:
        self.now = True
        offset = value - REF_NOW
        if offset == timedelta(0):
            return "now"
        sign = "+" if offset > timedelta(0) else "-"
        return f"now {sign} {self.delta(abs(offset))}"

    def date(self, value: date) -> str:
        self.today = True
        days = (value - REF_TODAY).days
        if days == 0:
            return "today"
        sign = "+" if days > 0 else "-"
        self.module.need("datetime", "timedelta")
        return f"today {sign} timedelta(days={abs(days)})"

    def preamble(self) -> list[str]:
        if not (self.now or self.today):
            return []
        self.module.need("app.database", "utcnow")
        lines = ["now = utcnow()"]
        if self.today:
            lines.append("today = now.date()")
        return lines


def py_value(value: Any, clock: Clock) -> str:
    """A value as Python (what a model attribute holds)."""
    module = clock.module
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, Raw):
        return py_string(value.text)
    if isinstance(value, Decimal):
        module.need("decimal", "Decimal")
        return f"Decimal({py_string(str(value))})"
    if isinstance(value, datetime):
        return clock.datetime(value)
    if isinstance(value, date):
        return clock.date(value)
    if isinstance(value, UUID):
        module.need("uuid", "UUID")
        return f"UUID({py_string(str(value))})"
    return text_source(str(value))


def json_value(value: Any, clock: Clock) -> str:
    """A value as a client sends it in JSON (decimals as strings, ISO dates)."""
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, Raw):
        return py_string(value.text)
    if isinstance(value, Decimal):
        return py_string(str(value))
    if isinstance(value, datetime):
        helper = clock.module.helper("iso")
        return f"{helper}({clock.datetime(value)})"
    if isinstance(value, date):
        expression = clock.date(value)
        return (
            f"{expression}.isoformat()" if expression == "today" else f"({expression}).isoformat()"
        )
    return text_source(str(value))


def expect_json(target: str, value: Any, clock: Clock, recent: bool = False) -> str:
    """An assertion that a JSON value of a response holds `value`."""
    module = clock.module
    if value is None:
        return f"assert {target} is None"
    if recent:
        clock.now = True
        return f"assert {module.helper('recent')}({module.helper('utc')}({target}), now)"
    if isinstance(value, bool) or value is None:
        return f"assert {target} is {value!r}"
    if isinstance(value, Decimal):
        module.need("decimal", "Decimal")
        return f"assert Decimal({target}) == {py_value(value, clock)}"
    if isinstance(value, datetime):
        return f"assert {module.helper('utc')}({target}) == {clock.datetime(value)}"
    if isinstance(value, date):
        return f"assert {target} == {json_value(value, clock)}"
    return f"assert {target} == {json_value(value, clock)}"


def expect_value(target: str, value: Any, clock: Clock, recent: bool = False) -> str:
    """An assertion that a stored attribute holds `value`."""
    if value is None:
        return f"assert {target} is None"
    if recent:
        clock.now = True
        return f"assert {clock.module.helper('recent')}({target}, now)"
    if isinstance(value, bool):
        return f"assert {target} is {value!r}"
    return f"assert {target} == {py_value(value, clock)}"


def docstring(summary: str, requirements: list[str], indent: str = "    ") -> str:
    text = summary.strip().replace("\\", "\\\\").replace('"""', "'''")
    if not text.endswith((".", "!", "?")):
        text += "."
    ids = ", ".join(dict.fromkeys(requirements))
    lines = textwrap.wrap(text, width=92 - len(indent), break_long_words=False)
    body = f"\n{indent}".join(lines)
    return f'{indent}"""{body}\n\n{indent}Requirements: {ids}.\n{indent}"""\n'


def function(name: str, summary: str, requirements: list[str], body: list[str]) -> str:
    """A test function taking the client and db fixtures."""
    head = f"def {name}(client: TestClient, db: Session) -> None:\n"
    while body and not body[0]:
        body = body[1:]
    lines = [f"    {line}" if line else "" for line in body]
    return head + docstring(summary, requirements) + "\n".join(lines) + "\n"
