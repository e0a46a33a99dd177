"""Source positions and the base every IR node shares.

Lines and columns are 0-based, as in the Language Server Protocol; the CLI adds
one when it prints them. Columns count Unicode code points of the decoded text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


@dataclass(slots=True, unsafe_hash=True)
class Position:
    """A place in the spec: 0-based line and column.

    A plain dataclass (pydantic validates and serializes it inside models): the
    parser makes one for every node, and this is several times cheaper to build
    than a model. Treat it as immutable (it hashes by value).
    """

    line: int
    column: int


@dataclass(slots=True, unsafe_hash=True)
class SourceRange:
    """The span of spec text an IR node was compiled from (end exclusive)."""

    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, column: int, end_line: int, end_column: int) -> SourceRange:
        return cls(Position(line, column), Position(end_line, end_column))

    def contains(self, line: int, column: int) -> bool:
        after_start = (line, column) >= (self.start.line, self.start.column)
        before_end = (line, column) <= (self.end.line, self.end.column)
        return after_start and before_end


ZERO_RANGE = SourceRange.of(0, 0, 0, 0)


class Node(BaseModel):
    """Base of every IR node: it keeps the range of spec text it came from."""

    model_config = ConfigDict(extra="forbid")

    range: SourceRange = ZERO_RANGE


ValueKind = Literal["integer", "decimal", "string", "boolean", "enum", "null"]


class Value(BaseModel):
    """A literal written in the spec, kept as its canonical text so JSON round-trips exactly."""

    model_config = ConfigDict(frozen=True)

    kind: ValueKind
    text: str

    def python(self) -> int | Decimal | bool | str | None:
        if self.kind == "null":
            return None
        if self.kind == "integer":
            return int(self.text)
        if self.kind == "decimal":
            return Decimal(self.text)
        if self.kind == "boolean":
            return self.text == "true"
        return self.text

    def __str__(self) -> str:
        return f'"{self.text}"' if self.kind == "string" else self.text


# `private_attributes(model)`: a model's private attributes (a dict), read straight from
# its slot, without pydantic's attribute hook: for index lookups on hot paths.
private_attributes: Callable[[BaseModel], dict[str, Any]] = BaseModel.__dict__[
    "__pydantic_private__"
].__get__


class KeyedList:
    """A name-to-item index over a model's list, rebuilt when the list changes length;
    models keep one in a private attribute so lookups by name stay O(1)."""

    __slots__ = ("index", "size")

    def __init__(self) -> None:
        self.index: dict[str, object] = {}
        self.size = -1

    def get(self, items: list[Any], attribute: str, key: str) -> Any:
        found = self.index.get(key)
        if self.size == len(items) and (found is None or getattr(found, attribute) == key):
            return found
        self.index = {}
        for item in items:
            self.index.setdefault(getattr(item, attribute), item)
        self.size = len(items)
        return self.index.get(key)
