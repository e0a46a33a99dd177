"""Translation of a flow's expressions, conditions and steps into Python statements.

The generated service runs in one SQLAlchemy session: records are model instances,
inputs are attributes of the flow's input schema (`data.due_on`), `now` and `today`
are read once when the flow starts. Types come from the analysis scope, so date
arithmetic, decimals and values that may be null are written correctly.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from specloom.analysis.flows import flow_scope
from specloom.analysis.scope import Scope, Type
from specloom.codegen import messages
from specloom.codegen.fieldtypes import is_nullable
from specloom.codegen.pycode import Imports, py_string, py_value
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    ClockExpr,
    CompareOp,
    Comparison,
    Condition,
    CreateStep,
    DeleteStep,
    Expr,
    Filter,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    IsGiven,
    LiteralExpr,
    NegateExpr,
    NotCondition,
    PathExpr,
    RecordQuery,
    RespondStep,
    SetFromInput,
    SetStep,
    Step,
)
from specloom.ir.domain import Entity
from specloom.plan import naming
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.names import entity_aliases, snake

RESERVED = frozenset({"session", "data", "now", "today", "Decimal", "select", "timedelta"})
NEGATED: dict[str, CompareOp] = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
"""The operator that holds exactly when the other does not (for values that are there)."""
_PY_OP = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def variable(name: str) -> str:
    """A Python variable for a spec name, clear of keywords and the service's own names."""
    name = snake(name)
    if keyword.iskeyword(name) or name in RESERVED:
        return name + "_record"
    return name


@dataclass
class Names:
    """Spec names visible at one point of a flow, and the Python expression of each."""

    parent: Names | None = None
    code: dict[str, str] = field(default_factory=dict)

    def child(self) -> Names:
        return Names(self)

    def lookup(self, name: str) -> str | None:
        names: Names | None = self
        while names is not None:
            if name in names.code:
                return names.code[name]
            names = names.parent
        return None

    def bind(self, name: str, code: str) -> None:
        self.code[name] = code

    def bind_record(self, entity: str, code: str, every_alias: bool) -> None:
        for alias in sorted(entity_aliases(entity)):
            if every_alias or self.lookup(alias) is None:
                self.bind(alias, code)


@dataclass
class Reply:
    """How a flow answers: its success status and the entity of the record it returns."""

    status: int
    entity: str | None
    many: bool = False  # the answer is a list of records (`Respond 200 with order.lines`)


class ExprWriter:
    """Writes expressions and conditions; `names` maps spec names to Python code."""

    def __init__(self, ir: ApplicationIR, imports: Imports, scope: Scope, owner: str) -> None:
        self.ir = ir
        self.imports = imports
        self.scope = scope
        self.owner = owner  # a flow or rule ID, for messages
        self.names = Names()
        self.uses_now = False
        self.uses_today = False
        self.nullable_names: dict[str, bool] = {}
        self.temporaries = 0

    # --- expressions ---------------------------------------------------------------------

    def entity(self, name: str) -> Entity:
        found = self.ir.domain.entity(name)
        if found is None:
            raise GenerationError(f"unknown entity {name}")
        return found

    def path(self, path: PathExpr, names: Names, scope: Scope) -> str:
        first, *rest = path.parts
        base = names.lookup(first)
        if base is None:
            raise GenerationError(f"'{first}' is not bound in {self.owner}")
        return ".".join([base, *rest])

    def nullable(self, expr: Expr, scope: Scope) -> bool:
        """Whether the value may be null when the flow runs."""
        if isinstance(expr, PathExpr):
            if len(expr.parts) == 1:
                return self.nullable_names.get(expr.parts[0], False)
            found = scope.final_field(expr)
            return found is not None and is_nullable(found[1])
        if isinstance(expr, AggregateExpr):
            return expr.function in ("min", "max", "average")
        return False

    def type_of(self, expr: Expr, scope: Scope) -> Type | None:
        return Scope(self.ir, DiagnosticSink(), scope).type_of(expr)

    def expr(self, expr: Expr, names: Names, scope: Scope) -> str:
        if isinstance(expr, PathExpr):
            return self.path(expr, names, scope)
        if isinstance(expr, LiteralExpr):
            if expr.value.kind == "decimal":
                self.imports.add("decimal", "Decimal")
            return py_value(expr.value)
        if isinstance(expr, ClockExpr):
            if expr.clock == "now":
                self.uses_now = True
                return "now"
            self.uses_today = True
            return "today"
        if isinstance(expr, NegateExpr):
            return f"-{self.operand(expr.operand, names, scope)}"
        if isinstance(expr, BinaryExpr):
            return self.binary(expr, names, scope)
        return self.aggregate(expr, names, scope)

    def operand(self, expr: Expr, names: Names, scope: Scope) -> str:
        """An arithmetic operand: a missing number counts as zero."""
        code = self.expr(expr, names, scope)
        if isinstance(expr, BinaryExpr):
            code = f"({code})"
        if self.nullable(expr, scope):
            found = self.type_of(expr, scope)
            zero = "Decimal(0)" if found is not None and found.kind == "decimal" else "0"
            if zero != "0":
                self.imports.add("decimal", "Decimal")
            code = f"({code} if {code} is not None else {zero})"
        return code

    def binary(self, expr: BinaryExpr, names: Names, scope: Scope) -> str:
        left_type = self.type_of(expr.left, scope)
        right_type = self.type_of(expr.right, scope)
        left = self.operand(expr.left, names, scope)
        right = self.operand(expr.right, names, scope)
        temporal = ("date", "datetime")
        if left_type is not None and left_type.kind in temporal:
            if right_type is not None and right_type.kind in temporal:
                return f"({left} - {right}).days"
            self.imports.add("datetime", "timedelta")
            return f"{left} {expr.op} timedelta(days={right})"
        if right_type is not None and right_type.kind in temporal:
            self.imports.add("datetime", "timedelta")
            return f"{right} + timedelta(days={left})"
        if expr.op == "/":
            self.imports.add("decimal", "Decimal")
            return f"Decimal({left}) / Decimal({right})"
        return f"{left} {expr.op} {right}"

    def as_decimal(self, expr: Expr, code: str, scope: Scope) -> str:
        found = self.type_of(expr, scope)
        if found is not None and found.kind == "integer":
            self.imports.add("decimal", "Decimal")
            return f"Decimal({code})"
        return code

    def assigned(self, target: PathExpr, value: Expr, names: Names, scope: Scope) -> str:
        code = self.expr(value, names, scope)
        found = scope.final_field(target)
        if found is not None and found[1].type.kind == "decimal":
            return self.as_decimal(value, code, scope)
        return code

    def aggregate(self, expr: AggregateExpr, names: Names, scope: Scope) -> str:
        collection = scope.resolve(expr.collection)
        element = str(collection.entity) if collection else ""
        items = self.path(expr.collection, names, scope)
        item = variable(expr.variable) if expr.variable else "item"
        inner = names.child()
        inner_scope = scope.child()
        if expr.variable:
            inner.bind(expr.variable, item)
            inner_scope.bind(expr.variable, Type("record", element))
        kept = ""
        if expr.filters:
            kept = " if " + self.element_filters(expr.filters, element, item, names, scope)
        if expr.function == "count":
            if not kept:
                return f"len({items})"
            return f"len([{item} for {item} in {items}{kept}])"
        assert expr.value is not None
        value = self.expr(expr.value, inner, inner_scope)
        if isinstance(expr.value, PathExpr) and self.nullable(expr.value, inner_scope):
            present = f"{value} is not None"
            kept = f"{kept} and {present}" if kept else f" if {present}"
        values = f"{value} for {item} in {items}{kept}"
        value_type = self.type_of(expr.value, inner_scope)
        if expr.function == "sum":
            if value_type is not None and value_type.kind == "decimal":
                self.imports.add("decimal", "Decimal")
                return f"sum(({values}), Decimal(0))"
            return f"sum({values})"
        if expr.function == "average":
            self.imports.add("app.types", "average")
            return f"average([{values}])"
        return f"{expr.function}(({values}), default=None)"

    def element_filters(
        self, filters: list[Filter], element: str, item: str, names: Names, scope: Scope
    ) -> str:
        entity = self.entity(element)
        parts = []
        for each in filters:
            field = entity.field(each.field)
            column = field.json_name if field else each.field
            value = self.expr(each.value, names, scope)
            parts.append(python_filter(f"{item}.{column}", each.op, value, _is_boolean(each.value)))
        return " and ".join(parts)

    # --- conditions ------------------------------------------------------------------

    def condition(self, condition: Condition, names: Names, scope: Scope) -> str:
        if isinstance(condition, Comparison):
            return self.comparison(condition, names, scope)
        if isinstance(condition, IsGiven):
            return f"data.{condition.input} is {'' if condition.negated else 'not '}None"
        if isinstance(condition, NotCondition):
            return self.condition(negate(condition.operand), names, scope)
        parts = [self.condition(operand, names, scope) for operand in condition.operands]
        joined = f" {condition.op} ".join(
            f"({part})" if " and " in part or " or " in part else part for part in parts
        )
        return joined

    def comparison(self, condition: Comparison, names: Names, scope: Scope) -> str:
        left = self.expr(condition.left, names, scope)
        right = self.expr(condition.right, names, scope)
        left_type = self.type_of(condition.left, scope)
        right_type = self.type_of(condition.right, scope)
        if _kind(left_type) == "datetime" and _kind(right_type) == "date":
            left = f"{left}.date()"
        elif _kind(left_type) == "date" and _kind(right_type) == "datetime":
            right = f"{right}.date()"
        if isinstance(condition.right, PathExpr) and _kind(right_type) == "record":
            right = f"{right}.id"
            left = f"{left}.id" if _kind(left_type) == "record" else left
        op = condition.op
        if op not in ("=", "!="):
            # a value that may be missing is tested first; a computed one is named once
            left, left_test = self.named_if_missing(left, condition.left, scope)
            right, right_test = self.named_if_missing(right, condition.right, scope)
            tests = [test for test in (left_test, right_test) if test]
        else:
            tests = []
        compared = f"{left} {_PY_OP[op]} {right}"
        if op in ("=", "!=") and _is_boolean(condition.right):
            compared = f"{left} {'is' if op == '=' else 'is not'} {right}"
        if not tests:
            return compared
        if getattr(condition, "negated_null", False):
            missing = " or ".join(f"{test} is None" for test in tests)
            return f"{missing} or {compared}"
        present = " and ".join(f"{test} is not None" for test in tests)
        return f"{present} and {compared}"

    def named_if_missing(self, code: str, expr: Expr, scope: Scope) -> tuple[str, str]:
        """(code to compare, code to test for None) of an operand; empty test when the
        operand is never null. `(value_1 := max(...))` keeps a computed value once."""
        if not self.nullable(expr, scope):
            return code, ""
        if _DOTTED.fullmatch(code):
            return code, code
        self.temporaries += 1
        name = f"value_{self.temporaries}"
        return name, f"({name} := {code})"


_DOTTED = re.compile(r"[A-Za-z_][\w.]*")


class FlowWriter(ExprWriter):
    """Writes the body of one flow's service function."""

    def __init__(self, ir: ApplicationIR, flow: Flow, endpoint: Endpoint, imports: Imports):
        super().__init__(ir, imports, flow_scope(ir, flow, endpoint, DiagnosticSink()), flow.id)
        self.flow = flow
        self.endpoint = endpoint
        self.counter = 0
        self.inputs = {item.name: item for item in flow.inputs}
        self.nullable_names = {item.name: item.optional for item in flow.inputs}
        self.default_record: str | None = None
        self.reply = self.find_reply()

    # --- the answer ----------------------------------------------------------------

    def find_reply(self) -> Reply:
        """The first success Respond decides the status and the record answered; without
        one, a create endpoint answers 201 with what it created, others 200 with the
        record of the path, and 204 when there is neither."""
        from specloom.ir.behaviour import walk_steps

        for step in walk_steps(self.flow.steps):
            if isinstance(step, RespondStep) and step.status < 400:
                entity = None
                many = False
                if step.body is not None:
                    found = self.scope_type_after(step.body)
                    entity = found.entity if found is not None else None
                    many = found is not None and found.kind == "collection"
                return Reply(step.status, entity, many)
        if self.endpoint.kind == "create":
            return Reply(201, self.endpoint.entity)
        if self.endpoint.target is not None:
            return Reply(200, self.endpoint.target)
        return Reply(204, None)

    def scope_type_after(self, path: PathExpr) -> Type | None:
        """The type of a path at the end of the flow (names bound by any step)."""
        scope = Scope(self.ir, DiagnosticSink(), self.scope)
        for step in _all_steps(self.flow.steps):
            if isinstance(step, CreateStep):
                scope.bind(step.variable, Type("record", step.entity))
                scope.bind_record(step.entity)
            elif isinstance(step, FindStep):
                scope.bind(step.variable, Type("record", step.query.entity))
        return scope.resolve(path)

    # --- the start: path records, inputs, clock ------------------------------------------

    def prologue(self) -> list[str]:
        lines: list[str] = []
        previous: tuple[str, str] | None = None
        for parameter in self.endpoint.parameters:
            code = variable(parameter.entity)
            self.use_repository(parameter.entity)
            lines.append(
                f"{code} = {parameter.entity}Repository(session).get({self.param(parameter.name)})"
            )
            lines += self.belongs_to(parameter.entity, code, previous)
            previous = (parameter.entity, code)
            self.names.bind_record(parameter.entity, code, every_alias=False)
            if self.endpoint.target == parameter.entity or self.default_record is None:
                self.default_record = code
        for item in self.flow.inputs:
            self.names.bind(item.name, f"data.{item.name}")
            if item.reference is not None and item.name.endswith("_id"):
                code = variable(item.name[:-3])
                self.use_repository(item.reference)
                loader = f"{item.reference}Repository(session).get(data.{item.name})"
                if item.optional:
                    loader = f"{loader} if data.{item.name} is not None else None"
                lines.append(f"{code} = {loader}")
                self.names.bind(item.name[:-3], code)
        creates_own = any(
            isinstance(step, CreateStep) and step.entity == self.endpoint.entity
            for step in _all_steps(self.flow.steps)
        )
        if self.endpoint.kind == "create" and not creates_own:
            raise GenerationError(
                f"flow {self.flow.id} answers a create endpoint but creates no "
                f"{self.endpoint.entity}"
            )
        return lines

    def belongs_to(self, entity: str, code: str, parent: tuple[str, str] | None) -> list[str]:
        """In `/orders/{id}/lines/{line_id}` the line must be one of the order's: 404 if not."""
        if parent is None:
            return []
        links = [
            f
            for f in self.entity(entity).fields
            if f.type.kind == "reference" and f.type.entity == parent[0]
        ]
        if len(links) != 1:
            return []
        self.imports.add("app.errors", "AppError", "NOT_FOUND_STATUS")
        missing = messages.not_found(entity, "{" + code + ".id}")
        return [
            f"if {code}.{links[0].json_name} != {parent[1]}.id:",
            f'    raise AppError(NOT_FOUND_STATUS, f"{missing}")',
        ]

    def param(self, name: str) -> str:
        return variable(name) if name != "id" else "record_id"

    def use_repository(self, entity: str) -> None:
        self.imports.add(naming.repository_module(entity), f"{entity}Repository")

    def use_model(self, entity: str) -> None:
        self.imports.add(naming.model_module(entity), entity)

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    # --- steps -------------------------------------------------------------------------

    def steps(self, steps: list[Step], names: Names, scope: Scope, indent: int) -> list[str]:
        lines: list[str] = []
        for step in steps:
            lines += self.step(step, names, scope, indent)
        return lines

    def step(self, step: Step, names: Names, scope: Scope, indent: int) -> list[str]:
        pad = "    " * indent
        if isinstance(step, Guard):
            refused = self.condition(negate(step.condition), names, scope)
            message = messages.guard_message(self.flow.id, step.message)
            self.imports.add("app.errors", "AppError")
            return [
                f"{pad}if {refused}:",
                f"{pad}    raise AppError({step.status}, {py_string(message)})",
            ]
        if isinstance(step, SetStep):
            return [
                f"{pad}{self.path(a.target, names, scope)} = "
                f"{self.assigned(a.target, a.value, names, scope)}"
                for a in step.assignments
            ]
        if isinstance(step, SetFromInput):
            return self.set_from_input(step, names, scope, pad)
        if isinstance(step, AdjustStep):
            op = "+=" if step.direction == "increase" else "-="
            target = self.path(step.target, names, scope)
            return [f"{pad}{target} {op} {self.expr(step.amount, names, scope)}"]
        if isinstance(step, CreateStep):
            return self.create(step, names, scope, pad)
        if isinstance(step, FindStep):
            return self.find(step, names, scope, indent)
        if isinstance(step, ForEachStep):
            return self.for_each(step, names, scope, indent)
        if isinstance(step, IfStep):
            return self.branch(step, names, scope, indent)
        if isinstance(step, DeleteStep):
            return self.delete(step, names, scope, pad)
        return self.respond(step, names, scope, pad)

    def set_from_input(self, step: SetFromInput, names: Names, scope: Scope, pad: str) -> list[str]:
        lines: list[str] = []
        for target in step.targets:
            name = target.parts[-1]
            code = self.path(target, names, scope)
            item = self.inputs.get(name)
            if step.only_given or (item is not None and item.optional):
                lines += [f"{pad}if data.{name} is not None:", f"{pad}    {code} = data.{name}"]
            else:
                lines.append(f"{pad}{code} = data.{name}")
        return lines

    def create(self, step: CreateStep, names: Names, scope: Scope, pad: str) -> list[str]:
        entity = self.entity(step.entity)
        self.use_model(step.entity)
        self.use_repository(step.entity)
        arguments = []
        for item in step.fields:
            field = entity.field(item.field)
            value = self.expr(item.value, names, scope)
            if field is not None and field.type.kind == "decimal":
                value = self.as_decimal(item.value, value, scope)
            arguments.append(f"{item.field}={value}")
        code = variable(step.variable)
        names.bind(step.variable, code)
        names.bind_record(step.entity, code, every_alias=True)
        scope.bind(step.variable, Type("record", step.entity))
        for alias in entity_aliases(step.entity):
            scope.bind(alias, Type("record", step.entity))
        if step.entity == self.endpoint.entity and self.endpoint.kind == "create":
            self.default_record = code
        record = f"{step.entity}({', '.join(arguments)})"
        return [f"{pad}{code} = {step.entity}Repository(session).add({record})"]

    def find(self, step: FindStep, names: Names, scope: Scope, indent: int) -> list[str]:
        pad = "    " * indent
        code = variable(step.variable)
        query = self.query(step.query, names, scope)
        lines = [f"{pad}{code} = session.scalars({query}.limit(1)).first()"]
        names.bind(step.variable, code)
        scope.bind(step.variable, Type("record", step.query.entity))
        if step.otherwise:
            inner_scope = scope.child()
            body = self.steps(step.otherwise, names, inner_scope, indent + 1)
            lines += [f"{pad}if {code} is None:", *body]
        names.bind_record(step.query.entity, code, every_alias=False)
        scope.bind_record(step.query.entity)
        return lines

    def query(self, query: RecordQuery, names: Names, scope: Scope) -> str:
        """`select(Entity).where(...).order_by(Entity.id)` for a RecordQuery."""
        entity = self.entity(query.entity)
        self.use_model(query.entity)
        self.imports.add("sqlalchemy", "select")
        conditions = []
        if query.owner is not None and query.via is not None:
            reference = entity.field(query.via)
            column = reference.json_name if reference else f"{query.via}_id"
            owner = self.path(query.owner, names, scope)
            conditions.append(f"{query.entity}.{column} == {owner}.id")
        for item in query.filters:
            conditions.append(self.column_filter(entity, item, names, scope))
        where = f".where({', '.join(conditions)})" if conditions else ""
        return f"select({query.entity}){where}.order_by({query.entity}.id)"

    def column_filter(self, entity: Entity, item: Filter, names: Names, scope: Scope) -> str:
        field = entity.field(item.field)
        column = field.json_name if field else item.field
        value = self.expr(item.value, names, scope)
        return sql_filter(f"{entity.name}.{column}", item.op, value, _is_boolean(item.value))

    def for_each(self, step: ForEachStep, names: Names, scope: Scope, indent: int) -> list[str]:
        pad = "    " * indent
        inner = names.child()
        inner_scope = scope.child()
        loop = variable(step.variable)
        if step.query is not None:
            source = f"session.scalars({self.query(step.query, names, scope)}).all()"
            element = step.query.entity
        else:
            assert step.collection is not None
            collection_type = scope.resolve(step.collection)
            element = str(collection_type.entity) if collection_type else ""
            items = self.path(step.collection, names, scope)
            if step.filters:
                kept = self.element_filters(step.filters, element, "item", names, scope)
                source = f"[item for item in {items} if {kept}]"
            else:
                source = f"list({items})"
        inner.bind(step.variable, loop)
        inner_scope.bind(step.variable, Type("record", element))
        body = self.steps(step.steps, inner, inner_scope, indent + 1)
        return [f"{pad}for {loop} in {source}:", *body]

    def branch(self, step: IfStep, names: Names, scope: Scope, indent: int) -> list[str]:
        pad = "    " * indent
        then = self.steps(step.then, names.child(), scope.child(), indent + 1)
        otherwise = self.steps(step.otherwise, names.child(), scope.child(), indent + 1)
        if not then:
            condition = self.condition(negate(step.condition), names, scope)
            return [f"{pad}if {condition}:", *otherwise]
        lines = [f"{pad}if {self.condition(step.condition, names, scope)}:", *then]
        if len(step.otherwise) == 1 and isinstance(step.otherwise[0], IfStep) and otherwise:
            # `Otherwise:` holding one `If` reads as `elif`
            nested = otherwise[0].lstrip()
            lines += [f"{pad}el{nested}", *(line[4:] for line in otherwise[1:])]
        elif otherwise:
            lines += [f"{pad}else:", *otherwise]
        return lines

    def delete(self, step: DeleteStep, names: Names, scope: Scope, pad: str) -> list[str]:
        target = self.path(step.target, names, scope)
        if step.every:
            return [f"{pad}{target}.clear()"]
        found = scope.resolve(step.target)
        entity = str(found.entity) if found else ""
        self.use_repository(entity)
        return [f"{pad}{entity}Repository(session).delete({target})"]

    def respond(self, step: RespondStep, names: Names, scope: Scope, pad: str) -> list[str]:
        if step.status >= 400:
            self.imports.add("app.errors", "AppError")
            message = step.message or f"{self.flow.id}: the request is refused"
            return [f"{pad}raise AppError({step.status}, {py_string(message)})"]
        self.imports.add("app.rules", "commit")
        body = self.path(step.body, names, scope) if step.body is not None else "None"
        return [f"{pad}commit(session)", f"{pad}return {body}"]

    def epilogue(self, body: list[str]) -> list[str]:
        """Commit and answer when the steps end without a Respond."""
        if body and body[-1].startswith("    return ") and not body[-1].startswith("        "):
            return []
        self.imports.add("app.rules", "commit")
        answer = self.default_record if self.reply.entity is not None else None
        return ["    commit(session)", f"    return {answer or 'None'}"]


def _is_boolean(expr: Expr) -> bool:
    return isinstance(expr, LiteralExpr) and expr.value.kind == "boolean"


def python_filter(subject: str, op: str, value: str, boolean: bool) -> str:
    """`item.status == "DRAFT"`; booleans compare by identity (`item.billed is False`)."""
    if boolean and op in ("=", "!="):
        return f"{subject} {'is' if op == '=' else 'is not'} {value}"
    return f"{subject} {_PY_OP[op]} {value}"


def sql_filter(column: str, op: str, value: str, boolean: bool) -> str:
    """`Invoice.status == "DRAFT"`; booleans as `TimeEntry.billed.is_(False)`."""
    if boolean and op in ("=", "!="):
        return f"{column}.{'is_' if op == '=' else 'is_not'}({value})"
    return f"{column} {_PY_OP[op]} {value}"


def _kind(found: Type | None) -> str:
    return found.kind if found is not None else ""


class NegatedComparison(Comparison):
    """A comparison that stands for the negation of another: a missing operand makes
    it true (the original was false)."""

    negated_null: bool = True


def negate(condition: Condition) -> Condition:
    """The condition that holds exactly when `condition` does not."""
    if isinstance(condition, Comparison):
        return NegatedComparison(
            op=NEGATED[condition.op],
            left=condition.left,
            right=condition.right,
            range=condition.range,
        )
    if isinstance(condition, IsGiven):
        return condition.model_copy(update={"negated": not condition.negated})
    if isinstance(condition, NotCondition):
        return condition.operand
    flipped = "or" if condition.op == "and" else "and"
    return BoolOp(op=flipped, operands=[negate(operand) for operand in condition.operands])


def _all_steps(steps: list[Step]) -> list[Step]:
    from specloom.ir.behaviour import walk_steps

    return list(walk_steps(steps))


class GenerationError(Exception):
    """The IR holds something the generator cannot write (the compiler should have said)."""
