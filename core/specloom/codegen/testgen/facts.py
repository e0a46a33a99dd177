"""What a flow (and the rules on what it writes) reads and writes, found statically.

The scenario solver varies what matters: the fields the flow and the rules read or
write, the children of the collections and queries it walks, its inputs; the
literals of the spec are the values worth trying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    Filter,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    LiteralExpr,
    NegateExpr,
    NoOverlapRule,
    NotCondition,
    PathExpr,
    RecordQuery,
    RespondStep,
    Rule,
    SetFromInput,
    SetStep,
    Step,
    walk_steps,
)
from specloom.spec.names import entity_aliases, snake


@dataclass(frozen=True, order=True)
class GroupSpec:
    """Children of `owner` records: records of `child` whose `via` points at the owner."""

    owner: str
    child: str
    via: str
    cardinality: int | None = None  # the rule's maximum, for a group a rule counts
    from_rule: bool = False  # only a rule looks at these children


@dataclass
class Facts:
    fields: set[tuple[str, str]] = field(default_factory=set)
    groups: set[GroupSpec] = field(default_factory=set)
    free: set[str] = field(default_factory=set)
    literals: list[Any] = field(default_factory=list)
    written: set[str] = field(default_factory=set)
    writes: set[tuple[str, str]] = field(default_factory=set)
    moves: set[str] = field(default_factory=set)  # entities whose records it creates or deletes
    names: dict[str, str] = field(default_factory=dict)


class FactFinder:
    def __init__(self, ir: ApplicationIR) -> None:
        self.ir = ir
        self.facts = Facts()

    # --- names ----------------------------------------------------------------------------

    def bind(self, names: dict[str, str], name: str, entity: str, override: bool = True) -> None:
        if override or name not in names:
            names[name] = entity
        self.facts.names.setdefault(name, entity)

    def bind_aliases(self, names: dict[str, str], entity: str, override: bool) -> None:
        for alias in sorted(entity_aliases(entity)):
            self.bind(names, alias, entity, override)

    # --- paths and expressions -----------------------------------------------------------

    def path(self, parts: list[str], names: dict[str, str]) -> tuple[str, str | None]:
        """Walks a path; notes every field on the way. Returns (kind, entity): kind is
        'record', 'collection' or 'value'."""
        first = parts[0]
        entity = names.get(first) or names.get(snake(first))
        if entity is None:
            return ("value", None)
        kind = "record"
        for part in parts[1:]:
            if kind != "record" or entity is None:
                return ("value", None)
            record = self.ir.domain.entity(entity)
            item = record.field(part) if record else None
            if item is None:
                return ("value", None)
            self.facts.fields.add((entity, part))
            if item.type.kind == "reference":
                entity = str(item.type.entity)
            elif item.type.kind == "collection":
                self.facts.groups.add(GroupSpec(entity, str(item.type.entity), str(item.type.via)))
                kind, entity = "collection", str(item.type.entity)
            else:
                return ("value", None)
        return (kind, entity)

    def expr(self, expr: Expr, names: dict[str, str]) -> None:
        if isinstance(expr, PathExpr):
            self.path(expr.parts, names)
        elif isinstance(expr, LiteralExpr):
            value = expr.value.python()
            if not isinstance(value, bool) and expr.value.kind in ("integer", "decimal"):
                self.facts.literals.append(value)
        elif isinstance(expr, BinaryExpr):
            self.expr(expr.left, names)
            self.expr(expr.right, names)
        elif isinstance(expr, NegateExpr):
            self.expr(expr.operand, names)
        elif isinstance(expr, AggregateExpr):
            _, child = self.path(expr.collection.parts, names)
            if child is not None:
                self.filters(expr.filters, child, names)
                if expr.value is not None:
                    inner = dict(names)
                    if expr.variable:
                        inner[expr.variable] = child
                    self.expr(expr.value, inner)

    def filters(self, filters: list[Filter], entity: str, names: dict[str, str]) -> None:
        for item in filters:
            self.facts.fields.add((entity, item.field))
            self.expr(item.value, names)

    def condition(self, condition: Condition, names: dict[str, str]) -> None:
        if isinstance(condition, Comparison):
            self.expr(condition.left, names)
            self.expr(condition.right, names)
        elif isinstance(condition, BoolOp):
            for operand in condition.operands:
                self.condition(operand, names)
        elif isinstance(condition, NotCondition):
            self.condition(condition.operand, names)

    def query(self, query: RecordQuery, names: dict[str, str]) -> None:
        if query.owner is not None and query.via is not None:
            _, owner = self.path(query.owner.parts, names)
            if owner is not None:
                self.facts.groups.add(GroupSpec(owner, query.entity, query.via))
        else:
            self.facts.free.add(query.entity)
        self.filters(query.filters, query.entity, names)

    # --- steps ------------------------------------------------------------------------------

    def flow(self, flow: Flow, endpoint: Endpoint) -> Facts:
        names: dict[str, str] = {}
        for parameter in endpoint.parameters:
            self.bind_aliases(names, parameter.entity, override=False)
        for item in flow.inputs:
            if item.reference is not None and item.name.endswith("_id"):
                self.bind(names, item.name[:-3], item.reference)
        creates_own = any(
            isinstance(s, CreateStep) and s.entity == endpoint.entity
            for s in walk_steps(flow.steps)
        )
        if endpoint.kind == "create" and not creates_own:
            self.bind_aliases(names, endpoint.entity, override=False)
            self.facts.written.add(endpoint.entity)
            self.facts.moves.add(endpoint.entity)
        self.steps(flow.steps, names)
        return self.facts

    def steps(self, steps: list[Step], names: dict[str, str]) -> None:
        for step in steps:
            self.step(step, names)

    def written_path(self, target: PathExpr, names: dict[str, str]) -> None:
        self.path(target.parts, names)
        if len(target.parts) >= 2:
            _, owner = self.path(target.parts[:-1], names)
            if owner is not None:
                self.facts.written.add(owner)
                self.facts.writes.add((owner, target.parts[-1]))

    def step(self, step: Step, names: dict[str, str]) -> None:
        if isinstance(step, Guard):
            self.condition(step.condition, names)
        elif isinstance(step, SetStep):
            for assignment in step.assignments:
                self.written_path(assignment.target, names)
                self.expr(assignment.value, names)
        elif isinstance(step, SetFromInput):
            for target in step.targets:
                self.written_path(target, names)
        elif isinstance(step, AdjustStep):
            self.written_path(step.target, names)
            self.expr(step.amount, names)
        elif isinstance(step, CreateStep):
            for item in step.fields:
                self.expr(item.value, names)
                self.facts.fields.add((step.entity, item.field))
            self.facts.written.add(step.entity)
            self.facts.moves.add(step.entity)
            self.bind(names, step.variable, step.entity)
            self.bind_aliases(names, step.entity, override=True)
        elif isinstance(step, FindStep):
            self.query(step.query, names)
            self.steps(step.otherwise, names)
            self.bind(names, step.variable, step.query.entity)
            self.bind_aliases(names, step.query.entity, override=False)
        elif isinstance(step, ForEachStep):
            self.for_each(step, names)
        elif isinstance(step, IfStep):
            self.condition(step.condition, names)
            self.steps(step.then, names)
            self.steps(step.otherwise, names)
        elif isinstance(step, DeleteStep):
            _, entity = self.path(step.target.parts, names)
            if entity is not None:
                self.facts.written.add(entity)
                self.cascade(entity)
        elif isinstance(step, RespondStep) and step.body is not None:
            self.path(step.body.parts, names)

    def cascade(self, entity: str, seen: set[str] | None = None) -> None:
        """A deleted record takes the children of its collections along."""
        seen = set() if seen is None else seen
        if entity in seen:
            return
        seen.add(entity)
        self.facts.moves.add(entity)
        record = self.ir.domain.entity(entity)
        for item in record.fields if record else []:
            if item.type.kind == "collection" and item.type.entity:
                self.cascade(item.type.entity, seen)

    def for_each(self, step: ForEachStep, names: dict[str, str]) -> None:
        element: str | None = None
        if step.query is not None:
            self.query(step.query, names)
            element = step.query.entity
        elif step.collection is not None:
            _, element = self.path(step.collection.parts, names)
            if element is not None:
                self.filters(step.filters, element, names)
        if element is not None:
            self.bind(names, step.variable, element)
        self.steps(step.steps, names)

    # --- rules ---------------------------------------------------------------------------------

    def rule(self, rule: Rule) -> None:
        body = rule.body
        if isinstance(body, CompareRule):
            entity = self.ir.domain.entity(body.entity)
            names = {"self": body.entity}
            for item in entity.fields if entity else []:
                if item.type.kind == "reference":
                    names[item.name] = str(item.type.entity)
            for expr in (body.left, body.right):
                self.rule_expr(expr, body.entity, names)
        elif isinstance(body, NoOverlapRule):
            for name in [body.start, body.end, *body.key]:
                self.facts.fields.add((body.entity, name))
            owner = self.ir.domain.entity(body.entity)
            for name in body.key:
                key = owner.field(name) if owner else None
                if key is not None and key.type.kind == "reference":
                    spec = GroupSpec(str(key.type.entity), body.entity, name, None, True)
                    self.facts.groups.add(spec)
            self.filters(body.filters, body.entity, {})
        elif isinstance(body, CardinalityRule):
            self.facts.groups.add(GroupSpec(body.owner, body.entity, body.via, body.maximum, True))
            self.filters(body.filters, body.entity, {})

    def rule_expr(self, expr: Expr, entity: str, names: dict[str, str]) -> None:
        if isinstance(expr, PathExpr):
            if expr.parts[0] in names:
                if expr.parts[0] != "self":
                    self.facts.fields.add((entity, expr.parts[0]))
                self.path(expr.parts, names)
            else:
                self.path(["self", *expr.parts], names)
        elif isinstance(expr, BinaryExpr):
            self.rule_expr(expr.left, entity, names)
            self.rule_expr(expr.right, entity, names)
        elif isinstance(expr, NegateExpr):
            self.rule_expr(expr.operand, entity, names)
        else:
            self.expr(expr, names)


def merged_groups(facts: Facts) -> list[GroupSpec]:
    """One spec per (owner, child, via): walked by the flow unless only rules look at it,
    with the smallest maximum a cardinality rule gives."""
    merged: dict[tuple[str, str, str], GroupSpec] = {}
    for spec in facts.groups:
        key = (spec.owner, spec.child, spec.via)
        known = merged.get(key)
        if known is None:
            merged[key] = spec
            continue
        limits = [n for n in (known.cardinality, spec.cardinality) if n is not None]
        merged[key] = GroupSpec(
            spec.owner,
            spec.child,
            spec.via,
            min(limits) if limits else None,
            known.from_rule and spec.from_rule,
        )
    return [merged[key] for key in sorted(merged)]


def rule_entities(rule: Rule) -> set[str]:
    body = rule.body
    if type(body) is CardinalityRule:  # (isinstance is slow on a model class it fails)
        return {body.entity, body.owner}
    return {body.entity}


def flow_facts(ir: ApplicationIR, flow: Flow, endpoint: Endpoint) -> Facts:
    """The facts of a flow and of the rules on the entities it writes."""
    finder = FactFinder(ir)
    facts = finder.flow(flow, endpoint)
    for rule in ir.behaviour.rules:
        if rule_entities(rule) & facts.written:
            finder.rule(rule)
    return facts
