"""Phase 2 for flows: every name, field, state and type in every step is checked.

Walking the steps also records what flows write (`Assigned`), which the domain
checks use to find enum states no flow reaches and read-only fields no flow sets,
and fills in the reference a `Find` or `For each` query follows.
"""

from __future__ import annotations

from specloom.analysis.scope import ID_TYPE, NUMERIC, Assigned, Scope, Type, type_of_field
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    BoolOp,
    Comparison,
    Condition,
    CreateStep,
    DeleteStep,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    IsGiven,
    LiteralExpr,
    NotCondition,
    PathExpr,
    RecordQuery,
    RespondStep,
    SetFromInput,
    SetStep,
    Step,
    walk_steps,
)
from specloom.ir.common import SourceRange
from specloom.ir.trusted import trusted
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.entities import SCALAR_TYPES
from specloom.spec.names import did_you_mean, entity_aliases, singular

_ORDERED = NUMERIC | {"date", "datetime"}


def flow_scope(ir: ApplicationIR, flow: Flow, endpoint: Endpoint, sink: DiagnosticSink) -> Scope:
    """The names a flow starts with: path records, inputs, and the record it creates."""
    scope = Scope(ir, sink)
    for parameter in endpoint.parameters:
        scope.bind_record(parameter.entity)
    for flow_input in flow.inputs:
        scope.inputs.add(flow_input.name)
        if flow_input.optional:
            scope.optional_inputs.add(flow_input.name)
        input_type: Type | None = None
        if flow_input.explicit_type is not None:
            input_type = Type(SCALAR_TYPES.get(flow_input.explicit_type.lower(), "string"))
        elif flow_input.reference is not None and flow_input.name.endswith("_id"):
            input_type = ID_TYPE
            scope.bind(flow_input.name[:-3], Type("record", flow_input.reference))
        elif flow_input.entity is not None and flow_input.field is not None:
            entity = ir.domain.entity(flow_input.entity)
            field = entity.field(flow_input.field) if entity else None
            if field is not None:
                input_type = type_of_field(field)
        if input_type is not None:
            scope.bind(flow_input.name, input_type)
    own = endpoint.entity
    creates_own = any(
        isinstance(step, CreateStep) and step.entity == own for step in walk_steps(flow.steps)
    )
    if endpoint.kind == "create" and not creates_own:
        scope.bind_record(own)
    return scope


class FlowChecker:
    def __init__(self, ir: ApplicationIR, sink: DiagnosticSink, assigned: Assigned) -> None:
        self.ir = ir
        self.sink = sink
        self.assigned = assigned

    def check(self, flow: Flow) -> None:
        endpoint = self.ir.api.endpoint(flow.endpoint) if flow.endpoint else None
        if endpoint is None:
            return
        scope = flow_scope(self.ir, flow, endpoint, self.sink)
        self.steps(flow.steps, scope)

    def steps(self, steps: list[Step], scope: Scope) -> None:
        responded = False
        for step in steps:
            if responded:
                self.sink.add(
                    "SL409",
                    "this step comes after 'Respond' and never runs: move it before",
                    step.range,
                )
            self.step(step, scope)
            responded = responded or isinstance(step, RespondStep)

    def step(self, step: Step, scope: Scope) -> None:
        if isinstance(step, Guard):
            self.status(step.status, step.range, error=True)
            self.condition(step.condition, scope)
        elif isinstance(step, SetStep):
            for assignment in step.assignments:
                target = self.writable(assignment.target, scope)
                value = scope.type_of(assignment.value)
                if target is not None and scope.check_compatible(
                    target, value, assignment.range, assignment.target
                ):
                    self.record_write(assignment.target, scope, assignment.value)
        elif isinstance(step, SetFromInput):
            for path in step.targets:
                target = self.writable(path, scope)
                name = path.parts[-1]
                if name not in scope.inputs:
                    self.sink.add(
                        "SL402",
                        f"'{name}' is not an input of this flow: add it to the 'Input:' line",
                        path.range,
                    )
                    continue
                scope.check_compatible(target, scope.lookup(name), path.range, path)
                self.record_write(path, scope, None)
        elif isinstance(step, AdjustStep):
            target = self.writable(step.target, scope)
            amount = scope.type_of(step.amount)
            if target is not None and target.kind not in NUMERIC:
                self.sink.add(
                    "SL407",
                    f"only a number can be increased or decreased; '{step.target}' is "
                    f"{target.describe()}",
                    step.target.range,
                )
            elif amount is not None:
                scope.numeric(amount, step.amount)
            self.record_write(step.target, scope, None)
        elif isinstance(step, CreateStep):
            self.create(step, scope)
        elif isinstance(step, FindStep):
            self.query(step.query, scope)
            self.steps(step.otherwise, scope.child())
            scope.bind(step.variable, Type("record", step.query.entity))
            scope.bind_record(step.query.entity)
        elif isinstance(step, ForEachStep):
            self.for_each(step, scope)
        elif isinstance(step, IfStep):
            self.condition(step.condition, scope)
            self.steps(step.then, scope.child())
            self.steps(step.otherwise, scope.child())
        elif isinstance(step, DeleteStep):
            self.delete(step, scope)
        else:
            self.status(step.status, step.range, error=False)
            if step.body is not None:
                body = scope.resolve(step.body)
                if body is not None and body.kind not in ("record", "collection"):
                    self.sink.add(
                        "SL407",
                        f"a response carries a record or a list; '{step.body}' is "
                        f"{body.describe()}",
                        step.body.range,
                    )

    def status(self, status: int, where: SourceRange, error: bool) -> None:
        low = 400 if error else 100
        if not low <= status <= 599:
            kind = "an error status (4xx or 5xx)" if error else "an HTTP status (100 to 599)"
            self.sink.add("SL408", f"{status} is not {kind}", where)

    def condition(self, condition: Condition, scope: Scope) -> None:
        if isinstance(condition, Comparison):
            left = scope.type_of(condition.left)
            right = scope.type_of(condition.right)
            if left is None or right is None:
                return
            if condition.op not in ("=", "!=") and not (
                left.kind in _ORDERED or left.kind == "state"
            ):
                self.sink.add(
                    "SL407",
                    f"'{condition.left}' is {left.describe()} and has no order: compare it with "
                    "'is' or 'is not'",
                    condition.range,
                )
                return
            scope.check_compatible(left, right, condition.range, condition.left)
        elif isinstance(condition, IsGiven):
            if condition.input not in scope.inputs:
                self.sink.add(
                    "SL402",
                    f"only an input can be given, and '{condition.input}' is not an input of "
                    f"this flow{did_you_mean(condition.input, scope.inputs)}",
                    condition.range,
                )
        elif isinstance(condition, BoolOp):
            for operand in condition.operands:
                self.condition(operand, scope)
        elif isinstance(condition, NotCondition):
            self.condition(condition.operand, scope)

    def writable(self, path: PathExpr, scope: Scope) -> Type | None:
        target = scope.resolve(path)
        if target is None:
            return None
        if len(path.parts) < 2 or path.parts[-1] == "id":
            if len(path.parts) >= 2 or path.parts[0] in scope.inputs:
                self.sink.add(
                    "SL410",
                    f"'{path}' cannot be set: name a field of a record, as in 'loan.status'",
                    path.range,
                )
                return None
            self.sink.add(
                "SL410",
                f"'{path}' is a whole record: set one of its fields, as in '{path}.status'",
                path.range,
            )
            return None
        if target.kind == "collection":
            self.sink.add(
                "SL410",
                f"'{path}' is a collection, made of the records that refer to it: create or "
                "delete those records instead",
                path.range,
            )
            return None
        return target

    def record_write(self, path: PathExpr, scope: Scope, value: object) -> None:
        found = scope.final_field(path)
        if found is None:
            return
        entity, field = found
        self.assigned.fields.add((entity.name, field.name))
        if isinstance(value, LiteralExpr) and value.value.kind == "enum":
            self.assigned.states.add((entity.name, field.name, value.value.text))

    def create(self, step: CreateStep, scope: Scope) -> None:
        entity = self.ir.domain.entity(step.entity)
        if entity is None:
            names = [e.name for e in self.ir.domain.entities]
            self.sink.add(
                "SL403",
                f"'{step.entity}' is not an entity of this spec{did_you_mean(step.entity, names)}",
                step.range,
            )
            return
        given: set[str] = set()
        for item in step.fields:
            field = entity.field(item.field)
            if field is None or field.type.kind == "collection":
                names = [f.name for f in entity.fields if f.type.kind != "collection"]
                self.sink.add(
                    "SL404",
                    f"{entity.name} has no field '{item.field}'{did_you_mean(item.field, names)}",
                    item.range,
                )
                continue
            given.add(field.name)
            value = scope.type_of(item.value)
            if scope.check_compatible(type_of_field(field), value, item.range, item.field):
                self.assigned.fields.add((entity.name, field.name))
                if isinstance(item.value, LiteralExpr) and item.value.value.kind == "enum":
                    self.assigned.states.add((entity.name, field.name, item.value.value.text))
        missing = [
            field.name
            for field in entity.fields
            if field.required
            and field.name not in given
            and field.default is None
            and not field.set_on_create
        ]
        if missing:
            self.sink.add(
                "SL412",
                f"creating a {entity.name} leaves its required "
                f"{'field' if len(missing) == 1 else 'fields'} {', '.join(missing)} unset: "
                f"add {'it' if len(missing) == 1 else 'them'} after 'with'",
                step.range,
            )
        for alias in {step.variable, *entity_aliases(entity.name)}:
            scope.bind(alias, Type("record", entity.name))

    def query(self, query: RecordQuery, scope: Scope) -> None:
        entity = self.ir.domain.entity(query.entity)
        if entity is None:
            names = [e.name for e in self.ir.domain.entities]
            self.sink.add(
                "SL403",
                f"'{query.entity}' is not an entity of this spec"
                f"{did_you_mean(query.entity, names)}",
                query.range,
            )
            return
        if query.owner is not None:
            owner = scope.resolve(query.owner)
            if owner is None:
                return
            links = [
                field.name
                for field in entity.fields
                if field.type.kind == "reference" and field.type.entity == owner.entity
            ]
            if owner.kind != "record" or not links:
                self.sink.add(
                    "SL404",
                    f"{entity.name} has no reference to '{query.owner}' "
                    f"({owner.describe()}) to find its records by",
                    query.owner.range,
                )
                return
            if len(links) > 1:
                self.sink.add(
                    "SL404",
                    f"{entity.name} refers to {owner.entity} through {', '.join(links)}: "
                    f"filter with one of them instead, as in 'with {links[0]} = ...'",
                    query.owner.range,
                )
                return
            query.via = links[0]
        scope.check_filters(query.filters, entity.name)

    def for_each(self, step: ForEachStep, scope: Scope) -> None:
        element: str | None = None
        if step.query is not None:
            self.query(step.query, scope)
            element = step.query.entity
        elif step.collection is not None:
            collection = scope.collection(step.collection)
            element = collection.entity if collection else None
            scope.check_filters(step.filters, element)
        inner = scope.child()
        if element is not None:
            inner.bind(step.variable, Type("record", element))
        self.steps(step.steps, inner)

    def delete(self, step: DeleteStep, scope: Scope) -> None:
        if step.every:
            owner = trusted[PathExpr](parts=step.target.parts[:-1], range=step.target.range)
            owner_type = scope.resolve(owner)
            if owner_type is None:
                return
            entity = scope.entity(owner_type.entity) if owner_type.kind == "record" else None
            name = step.target.parts[-1]
            collections = (
                [f for f in entity.fields if f.type.kind == "collection"] if entity else []
            )
            match = next((f for f in collections if name in (f.name, singular(f.name))), None)
            if match is None:
                self.sink.add(
                    "SL404",
                    f"'{owner}' has no collection '{name}'"
                    f"{did_you_mean(name, [f.name for f in collections])}",
                    step.target.range,
                )
                return
            step.target = trusted[PathExpr](
                parts=[*owner.parts, match.name], range=step.target.range
            )
            return
        target = scope.resolve(step.target)
        if target is None:
            return
        if target.kind == "collection":
            step.every = True
        elif target.kind != "record":
            self.sink.add(
                "SL407",
                f"only a record can be deleted; '{step.target}' is {target.describe()}",
                step.target.range,
            )
