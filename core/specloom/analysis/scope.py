"""Names and types inside a flow or a rule: what `loan.book.available_copies` is.

A `Scope` maps names (records, inputs, loop variables) to `Type`s and resolves
paths through references, reporting unknown names and fields with hints. Later
phases use the same scope to know the type of every expression.
"""

from __future__ import annotations

from dataclasses import dataclass

from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AggregateExpr,
    BinaryExpr,
    ClockExpr,
    Expr,
    Filter,
    LiteralExpr,
    NegateExpr,
    PathExpr,
)
from specloom.ir.common import SourceRange
from specloom.ir.domain import ORDERED_KINDS, TEXTUAL_KINDS, Entity, Field
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.names import did_you_mean, entity_aliases, listing, snake

NUMERIC = frozenset({"integer", "decimal"})
_TEXT_LIKE = TEXTUAL_KINDS | {"uuid"}


@dataclass(slots=True, unsafe_hash=True)
class Type:
    """`kind` is a scalar kind, `record` or `collection` (of `entity`), or `state`
    (an enum state literal, its name in `values`)."""

    kind: str
    entity: str | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind in ("record", "collection"):
            return f"{'a' if self.kind == 'record' else 'a list of'} {self.entity}"
        if self.kind == "enum":
            return "enum " + " | ".join(self.values)
        if self.kind == "state":
            return f"the state {self.values[0]}"
        return self.kind


ID_TYPE = Type("integer")


def type_of_field(field: Field) -> Type:
    field_type = field.type
    kind = field_type.kind
    if kind == "reference":
        return Type("record", field_type.entity)
    if kind == "collection":
        return Type("collection", field_type.entity)
    if kind == "enum":
        return Type("enum", values=tuple(field_type.values))
    return Type(kind)


def compatible(left: Type, right: Type) -> bool:
    """Can these two be compared, or can `right` be stored into `left`?"""
    if left.kind == "null" or right.kind == "null":
        return True  # 'is set', 'is missing', 'set x to null'
    if left.kind == "state" or right.kind == "state":
        other = right if left.kind == "state" else left
        return other.kind in ("enum", "state")
    if left.kind in NUMERIC and right.kind in NUMERIC:
        return True
    if left.kind in ("date", "datetime") and right.kind in ("date", "datetime"):
        return True
    if left.kind in _TEXT_LIKE and right.kind in _TEXT_LIKE:
        return True
    if left.kind == "enum" and right.kind == "enum":
        return set(left.values) == set(right.values)
    if left.kind == "record" and right.kind == "record":
        return left.entity == right.entity
    return left.kind == right.kind


def _date_arithmetic(op: str, left: Type | None, right: Type | None) -> Type | None:
    """Dates count in days: `check_out - check_in` is a number of days, `today + 30` and
    `due_on - 7` are dates."""
    if left is None or right is None:
        return None
    if op == "-" and left.kind == right.kind == "date":
        return Type("integer")
    if op in "+-" and left.kind == "date" and right.kind == "integer":
        return Type("date")
    if op == "+" and left.kind == "integer" and right.kind == "date":
        return Type("date")
    return None


def is_ordered(kind: str) -> bool:
    return kind in ORDERED_KINDS


@dataclass(slots=True)
class Assigned:
    """What flows write: (entity, field) pairs and the enum states they set."""

    fields: set[tuple[str, str]]
    states: set[tuple[str, str, str]]


class Scope:
    """Names visible at one point of a flow or rule."""

    def __init__(
        self,
        ir: ApplicationIR,
        sink: DiagnosticSink,
        parent: Scope | None = None,
        unknown_name_code: str = "SL402",
        owner: str | None = None,
    ):
        self.ir = ir
        self.sink = sink
        self.parent = parent
        # In a rule the names are the fields of `owner`, so an unknown one is reported
        # as an unknown field of that entity.
        self.unknown_name_code: str = parent.unknown_name_code if parent else unknown_name_code
        self.owner: str | None = parent.owner if parent else owner
        self.names: dict[str, Type] = {}
        self.inputs: set[str] = set() if parent is None else parent.inputs
        self.optional_inputs: set[str] = set() if parent is None else parent.optional_inputs

    def child(self) -> Scope:
        return Scope(self.ir, self.sink, self)

    def bind(self, name: str, type_: Type) -> None:
        self.names[name] = type_

    def bind_record(self, entity: str) -> None:
        for alias in entity_aliases(entity):
            if self.lookup(alias) is None:
                self.bind(alias, Type("record", entity))

    def lookup(self, name: str) -> Type | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> list[str]:
        names: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            names.update(scope.names)
            scope = scope.parent
        return sorted(names)

    def entity(self, name: str | None) -> Entity | None:
        return self.ir.domain.entity(name) if name else None

    # --- paths --------------------------------------------------------------------

    def resolve(self, path: PathExpr, code_unknown_field: str = "SL404") -> Type | None:
        """The type of a path, or None after reporting why it does not resolve."""
        first = path.parts[0]
        current = self.lookup(first)
        if current is None and first[:1].isupper():
            current = self.lookup(snake(first))  # 'Respond 201 with the Ticket'
            if current is not None:
                path.parts = [snake(first), *path.parts[1:]]
        if current is None and self.owner is not None:
            fields = [name for name in self.visible() if name not in ("self", "id")]
            self.sink.add(
                self.unknown_name_code,
                f"{self.owner} has no field '{first}'{did_you_mean(first, fields)}; its fields "
                f"are: {listing(fields)}",
                path.range,
            )
            return None
        if current is None:
            visible = self.visible()
            state = self.state_named(first)
            hint = (
                f"; enum states are written in capitals: {state}"
                if state
                else did_you_mean(first, visible)
            )
            self.sink.add(
                self.unknown_name_code,
                f"'{first}' is not a name known here{hint}; the names here are: "
                f"{listing(visible) or 'none'}",
                path.range,
            )
            return None
        if self.owner is not None:
            code_unknown_field = self.unknown_name_code
        parts = path.parts
        for index in range(1, len(parts)):
            part = parts[index]
            if current.kind != "record":
                walked = ".".join([first, *parts[1:index]])  # as written: `first`
                self.sink.add(
                    code_unknown_field,
                    f"'{walked}' is {current.describe()}, which has no field '{part}'",
                    path.range,
                )
                return None
            entity = self.entity(current.entity)
            if entity is None:
                return None
            if part == "id":
                current = ID_TYPE
            else:
                field = entity.field(part)
                if field is None:
                    names = [f.name for f in entity.fields]
                    self.sink.add(
                        code_unknown_field,
                        f"{entity.name} has no field '{part}'{did_you_mean(part, names)}; its "
                        f"fields are: {listing(names)}",
                        path.range,
                    )
                    return None
                current = type_of_field(field)
        return current

    def state_named(self, word: str) -> str | None:
        """The enum state a lower-case word stands for (`on_sale` for ON_SALE), if any."""
        upper = word.upper()
        for entity in self.ir.domain.entities:
            for field in entity.fields:
                if field.type.kind == "enum" and upper in field.type.values:
                    return upper
        return None

    def final_field(self, path: PathExpr) -> tuple[Entity, Field] | None:
        """The entity and field a path of two or more parts ends on (no diagnostics)."""
        parts = path.parts
        if len(parts) < 2:
            return None
        owner_type = self._quiet_type(parts[:-1])
        if owner_type is None or owner_type.kind != "record":
            return None
        entity = self.entity(owner_type.entity)
        if entity is None:
            return None
        field = entity.field(parts[-1])
        return (entity, field) if field is not None else None

    def _quiet_type(self, parts: list[str]) -> Type | None:
        """What `resolve` finds for a path of these parts, without reporting anything."""
        first = parts[0]
        current = self.lookup(first)
        if current is None and first[:1].isupper():
            current = self.lookup(snake(first))
        if current is None:
            return None
        for part in parts[1:]:
            if current.kind != "record":
                return None
            entity = self.entity(current.entity)
            if entity is None:
                return None
            if part == "id":
                current = ID_TYPE
                continue
            field = entity.field(part)
            if field is None:
                return None
            current = type_of_field(field)
        return current

    # --- expressions --------------------------------------------------------------

    def type_of(self, expr: Expr) -> Type | None:
        if isinstance(expr, PathExpr):
            return self.resolve(expr)
        if isinstance(expr, LiteralExpr):
            value = expr.value
            if value.kind == "enum":
                return Type("state", values=(value.text,))
            return Type(value.kind)
        if isinstance(expr, ClockExpr):
            return Type("datetime" if expr.clock == "now" else "date")
        if isinstance(expr, NegateExpr):
            operand = self.type_of(expr.operand)
            return self.numeric(operand, expr.operand)
        if isinstance(expr, BinaryExpr):
            left = self.type_of(expr.left)
            right = self.type_of(expr.right)
            dates = _date_arithmetic(expr.op, left, right)
            if dates is not None:
                return dates
            left = self.numeric(left, expr.left)
            right = self.numeric(right, expr.right)
            if left is None or right is None:
                return None
            if expr.op == "/" or "decimal" in (left.kind, right.kind):
                return Type("decimal")
            return Type("integer")
        return self.aggregate(expr)

    def numeric(self, type_: Type | None, expr: Expr) -> Type | None:
        if type_ is None:
            return None
        if type_.kind not in NUMERIC:
            self.sink.add(
                "SL407",
                f"arithmetic needs numbers, but '{expr}' is {type_.describe()}",
                expr.range,
            )
            return None
        return type_

    def aggregate(self, expr: AggregateExpr) -> Type | None:
        collection = self.collection(expr.collection)
        if collection is None:
            return None
        element = Type("record", collection.entity)
        inner = self.child()
        if expr.variable:
            inner.bind(expr.variable, element)
        self.check_filters(expr.filters, collection.entity)
        if expr.function == "count":
            return Type("integer")
        if expr.value is None:
            return None
        value_type = inner.type_of(expr.value)
        if value_type is None:
            return None
        if expr.function == "sum":
            return inner.numeric(value_type, expr.value)
        if expr.function == "average":
            return Type("decimal") if inner.numeric(value_type, expr.value) else None
        if not is_ordered(value_type.kind):
            self.sink.add(
                "SL407",
                f"{expr.function} needs numbers, dates or times, but '{expr.value}' is "
                f"{value_type.describe()}",
                expr.value.range,
            )
            return None
        return value_type

    def collection(self, path: PathExpr) -> Type | None:
        type_ = self.resolve(path)
        if type_ is None:
            return None
        if type_.kind != "collection":
            self.sink.add(
                "SL407",
                f"'{path}' is {type_.describe()}, not a collection such as 'invoice.lines'",
                path.range,
            )
            return None
        return type_

    def check_filters(self, filters: list[Filter], entity_name: str | None) -> None:
        entity = self.entity(entity_name)
        if entity is None:
            return
        for item in filters:
            field = entity.field(item.field)
            if field is None or field.type.kind == "collection":
                names = [f.name for f in entity.fields if f.type.kind != "collection"]
                self.sink.add(
                    "SL404",
                    f"{entity.name} has no field '{item.field}' to filter on"
                    f"{did_you_mean(item.field, names)}",
                    item.range,
                )
                continue
            value_type = self.type_of(item.value)
            self.check_compatible(type_of_field(field), value_type, item.range, item.field)

    def check_compatible(
        self, left: Type | None, right: Type | None, where: SourceRange, what: object
    ) -> bool:
        """Report (and return False) when `right` cannot be compared with or stored into
        `left`; `what` names the left side, written out only in a report."""
        if left is None or right is None:
            return False
        if not compatible(left, right):
            self.sink.add(
                "SL407",
                f"'{what}' is {left.describe()} and cannot be compared with or set to "
                f"{right.describe()}",
                where,
            )
            return False
        for enum, state in ((left, right), (right, left)):
            if enum.kind == "enum" and state.kind == "state" and state.values[0] not in enum.values:
                self.sink.add(
                    "SL405",
                    f"{state.values[0]} is not a state of '{what}'"
                    f"{did_you_mean(state.values[0], enum.values)}; its states are: "
                    f"{', '.join(enum.values)}",
                    where,
                )
                return False
        return True
