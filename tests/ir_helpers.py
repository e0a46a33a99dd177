"""Small readers of compiled IR, shared by the IR tests."""

from __future__ import annotations

from typing import Any

from specloom.ir.behaviour import LiteralExpr, PathExpr, Step


def parts(expr: Any) -> list[str]:
    """The parts of a path expression."""
    assert isinstance(expr, PathExpr), expr
    return expr.parts


def literal(expr: Any) -> tuple[str, str]:
    """(kind, text) of a literal expression."""
    assert isinstance(expr, LiteralExpr), expr
    return expr.value.kind, expr.value.text


def step(steps: list[Step], index: int, kind: type[Any]) -> Any:
    """The step at `index`, checked to be of `kind`."""
    found = steps[index]
    assert isinstance(found, kind), found
    return found
