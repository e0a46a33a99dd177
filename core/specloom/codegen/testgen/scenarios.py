"""The scenarios a flow's tests need: the happy path, each guard failing, each branch,
and (for the rules module) a rule broken through the flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specloom.codegen.testgen.facts import flow_facts
from specloom.codegen.testgen.outcome import StepKey
from specloom.codegen.testgen.slots import Names
from specloom.codegen.testgen.solver import RULE_BUDGET, Goal, Scenario, Solver
from specloom.codegen.testgen.template import Template
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    CompareRule,
    Comparison,
    Condition,
    Expr,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    IsGiven,
    NegateExpr,
    NoOverlapRule,
    NotCondition,
    PathExpr,
    Step,
)


@dataclass
class Target:
    goal: Goal
    step: Step | None
    scenario: Scenario | None


def walk_keyed(steps: list[Step], prefix: StepKey = ()) -> list[tuple[StepKey, Step]]:
    found: list[tuple[StepKey, Step]] = []
    for index, step in enumerate(steps):
        key = (*prefix, index)
        found.append((key, step))
        if isinstance(step, IfStep):
            found += walk_keyed(step.then, (*key, "then"))
            found += walk_keyed(step.otherwise, (*key, "otherwise"))
        elif isinstance(step, ForEachStep):
            found += walk_keyed(step.steps, (*key, "each"))
        elif isinstance(step, FindStep):
            found += walk_keyed(step.otherwise, (*key, "otherwise"))
    return found


def _names_in_expr(expr: Expr | None, found: set[str]) -> None:
    if expr is None:
        return
    if isinstance(expr, PathExpr):
        found.update(expr.parts)
    elif isinstance(expr, BinaryExpr):
        _names_in_expr(expr.left, found)
        _names_in_expr(expr.right, found)
    elif isinstance(expr, NegateExpr):
        _names_in_expr(expr.operand, found)
    elif isinstance(expr, AggregateExpr):
        found.update(expr.collection.parts)
        found.update(item.field for item in expr.filters)
        _names_in_expr(expr.value, found)


def condition_names(condition: Condition, found: set[str]) -> set[str]:
    """Every name and field a condition mentions (to rank the knobs it depends on)."""
    if isinstance(condition, Comparison):
        _names_in_expr(condition.left, found)
        _names_in_expr(condition.right, found)
    elif isinstance(condition, IsGiven):
        found.add(condition.input)
    elif isinstance(condition, BoolOp):
        for operand in condition.operands:
            condition_names(operand, found)
    elif isinstance(condition, NotCondition):
        condition_names(condition.operand, found)
    return found


def relevant_knobs(template: Template, names: set[str]) -> set[str]:
    keys: set[str] = set()
    for knob in template.knobs:
        if knob.kind in ("alias", "link") or (
            knob.kind == "input" and knob.input is not None and knob.input.name in names
        ):
            keys.add(knob.key)
        elif knob.kind in ("field", "first") and knob.field is not None:
            if knob.field.name in names:
                keys.add(knob.key)
        elif knob.kind == "count":
            keys.add(knob.key)
    return keys


class FlowScenarios:
    """Solves the goals of one flow, sharing one template and one cache."""

    def __init__(
        self, ir: ApplicationIR, flow: Flow, endpoint: Endpoint, plain: bool = False
    ) -> None:
        self.ir = ir
        self.flow = flow
        self.endpoint = endpoint
        facts = flow_facts(ir, flow, endpoint)
        self.template = Template(ir, flow, endpoint, facts, Names(), plain)
        self.solver = Solver(self.template)
        self.seeds: list[dict[str, Any]] = [self.template.baseline()]
        self._happy: Scenario | None = None
        self._solved_happy = False

    def happy(self) -> Scenario | None:
        """The run that succeeds with the most effects (a plain endpoint: its baseline)."""
        if not self._solved_happy and self.template.plain:
            found = self.solver.evaluate(self.template.baseline())
            self._happy = found if found is not None and found.outcome.ok else None
            self._solved_happy = True
        if not self._solved_happy:
            names: set[str] = set()
            for _key, step in walk_keyed(self.flow.steps):
                if isinstance(step, (Guard, IfStep)):
                    condition_names(step.condition, names)
            relevant = relevant_knobs(self.template, names)
            self._happy = self.solver.solve(Goal("happy"), self.seeds, relevant)
            self._solved_happy = True
            if self._happy is not None:
                self.seeds = [self._happy.assignment, *self.seeds]
        return self._happy

    def guard(self, key: StepKey, step: Guard) -> Scenario | None:
        self.happy()
        relevant = relevant_knobs(self.template, condition_names(step.condition, set()))
        return self.solver.solve(Goal("guard", key), self.seeds, relevant)

    def branch(self, kind: str, key: StepKey, side: bool, step: Step) -> Scenario | None:
        self.happy()
        names: set[str] = set()
        if isinstance(step, IfStep):
            condition_names(step.condition, names)
        elif isinstance(step, FindStep):
            names.update(item.field for item in step.query.filters)
            names.add(step.query.entity)
        relevant = relevant_knobs(self.template, names)
        found = self.solver.solve(Goal(kind, key, side), self.seeds, relevant)
        if found is not None and found.outcome.ok:
            self.seeds.append(found.assignment)
        return found

    def rule(self, rule_id: str, among: bool = False) -> Scenario | None:
        """A run refused by the rule (`among`: possibly with other checks refusing it too)."""
        self.happy()
        for kind, key, step in self.branch_points():
            for side in (True, False):
                self.branch(kind, key, side, step)
        relevant = self.rule_knobs(rule_id)
        goal = Goal("rule_among" if among else "rule", rule=rule_id)
        return self.solver.solve(goal, self.seeds, relevant, RULE_BUDGET)

    def kept(self, rule_id: str, near: Scenario | None) -> Scenario | None:
        """A run that writes a record the rule is checked on, and keeps it (close to
        `near`, the run that breaks it, when there is one)."""
        seeds = [near.assignment, *self.seeds] if near is not None else self.seeds
        relevant = self.rule_knobs(rule_id)
        return self.solver.solve(Goal("kept", rule=rule_id), seeds, relevant, RULE_BUDGET)

    def rule_knobs(self, rule_id: str) -> set[str]:
        """The knobs of the fields a rule reads (tried first), and those that link records."""
        rule = next((r for r in self.ir.behaviour.rules if r.id == rule_id), None)
        names: set[str] = set()
        if rule is not None:
            body = rule.body
            if isinstance(body, CompareRule):
                _names_in_expr(body.left, names)
                _names_in_expr(body.right, names)
            elif isinstance(body, NoOverlapRule):
                names.update([body.start, body.end, *body.key])
            else:
                names.add(body.via)
                names.update(item.field for item in body.filters)
        keys = relevant_knobs(self.template, names)
        for knob in self.template.knobs:
            if knob.input is not None and {knob.input.name, knob.input.field} & names:
                keys.add(knob.key)
        return keys

    def branch_points(self) -> list[tuple[str, StepKey, IfStep | FindStep]]:
        points: list[tuple[str, StepKey, IfStep | FindStep]] = []
        for key, step in walk_keyed(self.flow.steps):
            if isinstance(step, IfStep):
                points.append(("if", key, step))
            elif isinstance(step, FindStep):
                points.append(("find", key, step))
        return points
