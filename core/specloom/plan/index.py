"""Lookups over one IR that planning needs: entities by name, the endpoints of each
entity, the flow of each endpoint, the rules on each entity, and which entities a
flow or a rule touches (following paths such as `loan.book.available_copies`).

A spec with errors may name a thing twice; the index keeps the first, so planning
never fails on it (the compiler has already reported the duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from specloom.analysis.flows import flow_scope
from specloom.analysis.rules import rule_scope
from specloom.analysis.scope import Scope, Type, type_of_field
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    CardinalityRule,
    CompareRule,
    Comparison,
    Condition,
    CreateStep,
    DeleteStep,
    Expr,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    NegateExpr,
    NotCondition,
    PathExpr,
    RecordQuery,
    RespondStep,
    Rule,
    SetFromInput,
    SetStep,
    Step,
)
from specloom.ir.domain import Entity
from specloom.plan.model import AtomicSpec
from specloom.spec.diagnostics import DiagnosticSink


@dataclass
class PlanIndex:
    """Built once per IR (`PlanIndex.of`). Keys: entity names, endpoint, flow and rule IDs;
    `flow_of` maps an endpoint ID to its flow, `position` an entity to its place in the
    spec, `contracts` a task ID to its atomic spec once phase 4 has worked it out."""

    ir: ApplicationIR
    entities: dict[str, Entity] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    endpoints_of: dict[str, list[Endpoint]] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    flow_of: dict[str, Flow] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    rules_on: dict[str, list[Rule]] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, AtomicSpec] = field(default_factory=dict)
    _touched: dict[str, list[str]] = field(default_factory=dict)
    _responses: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, ir: ApplicationIR) -> PlanIndex:
        index = cls(ir)
        for entity in ir.domain.entities:
            index.entities.setdefault(entity.name, entity)
            index.position.setdefault(entity.name, len(index.position))
        for endpoint in ir.api.endpoints:
            if endpoint.id not in index.endpoints:
                index.endpoints[endpoint.id] = endpoint
                index.endpoints_of.setdefault(endpoint.entity, []).append(endpoint)
        for flow in ir.behaviour.flows:
            if flow.id not in index.flows:
                index.flows[flow.id] = flow
                if flow.endpoint is not None:
                    index.flow_of.setdefault(flow.endpoint, flow)
        for rule in ir.behaviour.rules:
            if rule.id not in index.rules:
                index.rules[rule.id] = rule
                index.rules_on.setdefault(rule.body.entity, []).append(rule)
        return index

    def endpoint_of(self, flow: Flow) -> Endpoint | None:
        return self.endpoints.get(flow.endpoint) if flow.endpoint else None

    def known(self, names: set[str]) -> list[str]:
        """The names that are entities of the spec, in spec order."""
        position = self.position
        return sorted((name for name in names if name in position), key=position.__getitem__)

    def endpoint_entities(self, endpoint: Endpoint) -> list[str]:
        """The resource, the record acted on, the parent and every path parameter's entity."""
        names = {endpoint.entity, *(p.entity for p in endpoint.parameters)}
        names.update(name for name in (endpoint.target, endpoint.parent) if name)
        return self.known(names)

    def flow_entities(self, flow: Flow) -> list[str]:
        """Every entity a flow reads, writes, creates or walks through, with its endpoint's."""
        key = "flow:" + flow.id
        if key not in self._touched:
            walker = self._walk_flow(flow)
            self._touched[key] = self.known(walker.found)
            self._responses[key] = self.known(walker.responds)
        return self._touched[key]

    def flow_responses(self, flow: Flow) -> list[str]:
        """The entities a flow's `Respond` steps answer with (one record or a list)."""
        self.flow_entities(flow)
        return self._responses["flow:" + flow.id]

    def rule_entities(self, rule: Rule) -> list[str]:
        """The entity a rule is on, the owner of a count, and entities its paths reach."""
        key = "rule:" + rule.id
        if key not in self._touched:
            self._touched[key] = self.known(self._walk_rule(rule))
        return self._touched[key]

    def rules_touching(self, entities: list[str]) -> list[Rule]:
        return [rule for name in entities for rule in self.rules_on.get(name, [])]

    def _walk_flow(self, flow: Flow) -> _Walker:
        endpoint = self.endpoint_of(flow)
        sink = DiagnosticSink()
        walker = _Walker(self)
        if endpoint is None:
            scope = Scope(self.ir, sink)
        else:
            scope = flow_scope(self.ir, flow, endpoint, sink)
            walker.found.update(self.endpoint_entities(endpoint))
        walker.found.update(i.reference for i in flow.inputs if i.reference)
        walker.steps(flow.steps, scope)
        return walker

    def _walk_rule(self, rule: Rule) -> set[str]:
        body = rule.body
        walker = _Walker(self)
        walker.found.add(body.entity)
        if isinstance(body, CardinalityRule):
            walker.found.add(body.owner)
        entity = self.entities.get(body.entity)
        if isinstance(body, CompareRule) and entity is not None:
            scope = rule_scope(self.ir, entity, DiagnosticSink())
            walker.expr(body.left, scope)
            walker.expr(body.right, scope)
        return walker.found


class _Walker:
    """Collects the entities of every record that paths and steps go through."""

    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self.found: set[str] = set()
        self.responds: set[str] = set()

    def steps(self, steps: list[Step], scope: Scope) -> None:
        for step in steps:
            self.step(step, scope)

    def step(self, step: Step, scope: Scope) -> None:
        if isinstance(step, Guard):
            self.condition(step.condition, scope)
        elif isinstance(step, SetStep):
            for assignment in step.assignments:
                self.path(assignment.target, scope)
                self.expr(assignment.value, scope)
        elif isinstance(step, SetFromInput):
            for target in step.targets:
                self.path(target, scope)
        elif isinstance(step, AdjustStep):
            self.path(step.target, scope)
            self.expr(step.amount, scope)
        elif isinstance(step, CreateStep):
            self.create(step, scope)
        elif isinstance(step, FindStep):
            self.query(step.query, scope)
            scope.bind(step.variable, Type("record", step.query.entity))
            self.steps(step.otherwise, scope)
        elif isinstance(step, DeleteStep):
            self.path(step.target, scope)
        elif isinstance(step, ForEachStep):
            self.for_each(step, scope)
        elif isinstance(step, IfStep):
            self.condition(step.condition, scope)
            self.steps(step.then, scope)
            self.steps(step.otherwise, scope)
        elif isinstance(step, RespondStep) and step.body is not None:
            answered = self.path(step.body, scope)
            if answered is not None:
                self.responds.add(answered)

    def create(self, step: CreateStep, scope: Scope) -> None:
        self.found.add(step.entity)
        for value in step.fields:
            self.expr(value.value, scope)
        scope.bind(step.variable, Type("record", step.entity))

    def for_each(self, step: ForEachStep, scope: Scope) -> None:
        inner = scope.child()
        element: str | None = None
        if step.query is not None:
            self.query(step.query, scope)
            element = step.query.entity
        elif step.collection is not None:
            element = self.path(step.collection, scope)
        if element is not None:
            inner.bind(step.variable, Type("record", element))
        self.steps(step.steps, inner)

    def query(self, query: RecordQuery, scope: Scope) -> None:
        self.found.add(query.entity)
        if query.owner is not None:
            self.path(query.owner, scope)
        for item in query.filters:
            self.expr(item.value, scope)

    def condition(self, condition: Condition, scope: Scope) -> None:
        if isinstance(condition, Comparison):
            self.expr(condition.left, scope)
            self.expr(condition.right, scope)
        elif isinstance(condition, BoolOp):
            for operand in condition.operands:
                self.condition(operand, scope)
        elif isinstance(condition, NotCondition):
            self.condition(condition.operand, scope)

    def expr(self, expr: Expr, scope: Scope) -> None:
        if isinstance(expr, PathExpr):
            self.path(expr, scope)
        elif isinstance(expr, BinaryExpr):
            self.expr(expr.left, scope)
            self.expr(expr.right, scope)
        elif isinstance(expr, NegateExpr):
            self.expr(expr.operand, scope)
        elif isinstance(expr, AggregateExpr):
            self.aggregate(expr, scope)

    def aggregate(self, expr: AggregateExpr, scope: Scope) -> None:
        element = self.path(expr.collection, scope)
        for item in expr.filters:
            self.expr(item.value, scope)
        if expr.value is not None:
            inner = scope.child()
            if expr.variable and element is not None:
                inner.bind(expr.variable, Type("record", element))
            self.expr(expr.value, inner)

    def path(self, path: PathExpr, scope: Scope) -> str | None:
        """Walk a path, noting each record on the way; the entity it ends on, if any."""
        current = scope.lookup(path.parts[0])
        for part in path.parts[1:]:
            if current is None or current.kind not in ("record", "collection"):
                return None
            self.found.add(str(current.entity))
            entity = self.index.entities.get(str(current.entity))
            owned = entity.field(part) if entity is not None else None
            current = type_of_field(owned) if owned is not None else None
        if current is None or current.kind not in ("record", "collection"):
            return None
        self.found.add(str(current.entity))
        return current.entity
