"""Expressions and conditions of flows and rules, evaluated over a world.

Names resolve in a flat environment (a flow's names, or a record's fields for a
rule); paths walk through references; a collection is the list of its children in
id order. Comparisons follow the generated app: with a null operand `=` holds when
both are null, `!=` when exactly one is, and the ordering operators never hold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from specloom.codegen.testgen.values import comparable
from specloom.codegen.testgen.world import Record, Ref, World
from specloom.ir.behaviour import (
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    ClockExpr,
    Comparison,
    Condition,
    Expr,
    Filter,
    IsGiven,
    LiteralExpr,
    NegateExpr,
    NotCondition,
    PathExpr,
)
from specloom.spec.names import snake


class Undefined(Exception):
    """The expression has no value the app would compute cleanly (null arithmetic, a
    division by zero, a record that is gone): such scenarios are not used."""


class Evaluator:
    def __init__(
        self,
        world: World,
        env: dict[str, Any],
        now: datetime,
        today: date,
        given: set[str] | None = None,
    ) -> None:
        self.world = world
        self.env = env
        self.now = now
        self.today = today
        self.given = given if given is not None else set()

    # --- names and paths ----------------------------------------------------------------

    def lookup(self, name: str) -> Any:
        if name in self.env:
            return self.env[name]
        if name[:1].isupper() and snake(name) in self.env:
            return self.env[snake(name)]  # 'Respond 201 with the Ticket'
        raise Undefined(f"'{name}' is not bound")

    def path(self, parts: list[str]) -> Any:
        current = self.lookup(parts[0])
        for part in parts[1:]:
            if current is None:
                return None
            if not isinstance(current, Ref):
                raise Undefined(f"'{part}' of a value that is not a record")
            current = self.field_of(self.world.get(current.entity, current.id), part, current)
        return current

    def field_of(self, record: Record | None, name: str, ref: Ref) -> Any:
        if record is None:
            raise Undefined(f"{ref.entity} {ref.id} is gone")
        if name == "id":
            return record.id
        field = self.world.schema(record.entity).by_name.get(name)
        if field is None:
            raise Undefined(f"{record.entity} has no field {name}")
        if field.type.kind == "reference":
            target = record.values.get(name)
            return None if target is None else Ref(str(field.type.entity), target)
        if field.type.kind == "collection":
            return [child.ref for child in self.world.children(record.ref, field)]
        return record.values.get(name)

    # --- expressions --------------------------------------------------------------------

    def value(self, expr: Expr) -> Any:
        if isinstance(expr, PathExpr):
            return self.path(expr.parts)
        if isinstance(expr, LiteralExpr):
            return expr.value.python()
        if isinstance(expr, ClockExpr):
            return self.now if expr.clock == "now" else self.today
        if isinstance(expr, NegateExpr):
            operand = self.value(expr.operand)
            if not _is_number(operand):
                raise Undefined("negating a value that is not a number")
            return -operand
        if isinstance(expr, BinaryExpr):
            return arithmetic(expr.op, self.value(expr.left), self.value(expr.right))
        return self.aggregate(expr)

    def records(self, collection: PathExpr, filters: list[Filter]) -> list[Ref]:
        found = self.path(collection.parts)
        if not isinstance(found, list):
            raise Undefined(f"'{collection}' is not a collection")
        return self.filtered(found, filters)

    def filtered(self, refs: list[Ref], filters: list[Filter]) -> list[Ref]:
        kept: list[Ref] = []
        for ref in refs:
            record = self.world.get(ref.entity, ref.id)
            if record is None:
                continue
            if all(
                compare(item.op, self.field_of(record, item.field, ref), self.value(item.value))
                for item in filters
            ):
                kept.append(ref)
        return kept

    def aggregate(self, expr: AggregateExpr) -> Any:
        refs = self.records(expr.collection, expr.filters)
        if expr.function == "count":
            return len(refs)
        if expr.value is None:
            raise Undefined("an aggregate without a value")
        values = [self.with_name(expr.variable, ref, expr.value) for ref in refs]
        if any(not _is_number(v) and not isinstance(v, (date, datetime)) for v in values):
            raise Undefined("an aggregate over null or non-numeric values")
        if expr.function == "sum":
            total: Any = 0
            for item in values:
                total = arithmetic("+", total, item)
            return total
        if not values:
            return None
        if expr.function == "min":
            return min(values)
        if expr.function == "max":
            return max(values)
        total = Decimal(0)
        for item in values:
            total += Decimal(item)
        return total / Decimal(len(values))

    def with_name(self, name: str | None, ref: Ref, expr: Expr) -> Any:
        if name is None:
            return self.value(expr)
        saved = self.env.get(name, _MISSING)
        self.env[name] = ref
        try:
            return self.value(expr)
        finally:
            if saved is _MISSING:
                del self.env[name]
            else:
                self.env[name] = saved

    # --- conditions -----------------------------------------------------------------------

    def condition(self, condition: Condition) -> bool:
        if isinstance(condition, Comparison):
            return compare(condition.op, self.value(condition.left), self.value(condition.right))
        if isinstance(condition, IsGiven):
            return (condition.input in self.given) != condition.negated
        if isinstance(condition, BoolOp):
            if condition.op == "and":
                return all(self.condition(item) for item in condition.operands)
            return any(self.condition(item) for item in condition.operands)
        if isinstance(condition, NotCondition):
            return not self.condition(condition.operand)
        raise Undefined("unknown condition")


_MISSING = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """Numbers (a Decimal as soon as one side is, and for `/`), and dates in days."""
    if isinstance(left, date) and not isinstance(left, datetime):
        if op in "+-" and isinstance(right, int) and not isinstance(right, bool):
            return left + timedelta(days=right) if op == "+" else left - timedelta(days=right)
        if op == "-" and isinstance(right, date) and not isinstance(right, datetime):
            return (left - right).days
        raise Undefined("date arithmetic")
    if op == "+" and isinstance(right, date) and _is_number(left):
        return arithmetic("+", right, left)
    if not (_is_number(left) and _is_number(right)):
        raise Undefined("arithmetic on a value that is not a number")
    try:
        if op == "/":
            return Decimal(left) / Decimal(right)
        if isinstance(left, Decimal) or isinstance(right, Decimal):
            left, right = Decimal(left), Decimal(right)
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        return left * right
    except (DivisionByZero, InvalidOperation, ZeroDivisionError) as error:
        raise Undefined(str(error)) from error


def compare(op: str, left: Any, right: Any) -> bool:
    """A comparison as the generated app makes it, nulls included."""
    if left is None or right is None:
        if op == "=":
            return left is None and right is None
        if op == "!=":
            return (left is None) != (right is None)
        return False
    if isinstance(left, Ref) or isinstance(right, Ref):
        same = isinstance(left, Ref) and isinstance(right, Ref) and left == right
        if op in ("=", "!="):
            return same if op == "=" else not same
        raise Undefined("records have no order")
    left, right = comparable(left, right)
    try:
        if op == "=":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError as error:
        raise Undefined(str(error)) from error
