"""Conditions and steps in words, for test names and docstrings: `hours > 8` is
`hours is above 8`, `count of order.lines > 0` is `count of order lines is above 0`."""

from __future__ import annotations

from specloom.ir.behaviour import (
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    ClockExpr,
    Comparison,
    Condition,
    Expr,
    IsGiven,
    LiteralExpr,
    NegateExpr,
    NotCondition,
    PathExpr,
)

_OPS = {
    "=": "is",
    "!=": "is not",
    "<": "is below",
    "<=": "is at most",
    ">": "is above",
    ">=": "is at least",
}
_NEGATED = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_ARITHMETIC = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}


def expr_words(expr: Expr) -> str:
    if isinstance(expr, PathExpr):
        return " ".join(expr.parts)
    if isinstance(expr, LiteralExpr):
        return expr.value.text
    if isinstance(expr, ClockExpr):
        return expr.clock
    if isinstance(expr, NegateExpr):
        return f"minus {expr_words(expr.operand)}"
    if isinstance(expr, BinaryExpr):
        return f"{expr_words(expr.left)} {_ARITHMETIC[expr.op]} {expr_words(expr.right)}"
    if isinstance(expr, AggregateExpr):
        words = f"{expr.function} of {expr_words(expr.collection)}"
        for item in expr.filters:
            words += f" with {item.field} {expr_words(item.value)}"
        return words
    return "a value"


def condition_words(condition: Condition, negate: bool = False) -> str:
    if isinstance(condition, Comparison):
        op = _NEGATED[condition.op] if negate else condition.op
        return f"{expr_words(condition.left)} {_OPS[op]} {expr_words(condition.right)}"
    if isinstance(condition, IsGiven):
        given = condition.negated == negate
        return f"{condition.input} is {'given' if given else 'not given'}"
    if isinstance(condition, BoolOp):
        joiner = condition.op
        if negate:
            joiner = "or" if joiner == "and" else "and"
        return f" {joiner} ".join(condition_words(item, negate) for item in condition.operands)
    if isinstance(condition, NotCondition):
        return condition_words(condition.operand, not negate)
    return "the condition holds"
