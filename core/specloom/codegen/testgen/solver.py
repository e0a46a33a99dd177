"""The scenario solver: a deterministic search for a world and a request that make a
flow run a chosen path (all guards pass, guard i is the first to fail, a branch is
taken, a rule is broken).

It climbs from a seed assignment of the template's knobs: each round tries single
knob changes (the knobs the goal's condition reads first) and keeps the first that
brings the run closer to the goal, then pairs of knobs when single changes are
exhausted. Every candidate world must be one the app could hold (`world_problem`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from specloom.codegen.testgen.builder import OWN
from specloom.codegen.testgen.facts import rule_entities
from specloom.codegen.testgen.interpreter import Interpreter
from specloom.codegen.testgen.outcome import Outcome, Request, StepKey
from specloom.codegen.testgen.slots import arranged_value
from specloom.codegen.testgen.template import ABSENT, Instance, Knob, Template
from specloom.codegen.testgen.validity import world_problem
from specloom.codegen.testgen.values import fits
from specloom.ir.behaviour import FindStep, ForEachStep, IfStep, Step

BUDGET = 2500  # evaluations a goal may take
RULE_BUDGET = 600  # a rule most writes cannot break: give up on a write sooner
INVALID = (99,)


@dataclass(frozen=True)
class Goal:
    kind: str  # happy, guard, if, find, rule
    key: StepKey | None = None
    side: bool | None = None
    rule: str | None = None


@dataclass
class Scenario:
    template: Template
    assignment: dict[str, Any]
    instance: Instance
    outcome: Outcome


def step_order(steps: list[Step], prefix: StepKey = ()) -> dict[StepKey, int]:
    """Every step key, in the order the steps are written (pre-order)."""
    order: dict[StepKey, int] = {}

    def visit(items: list[Step], base: StepKey) -> None:
        for index, step in enumerate(items):
            key = (*base, index)
            order[key] = len(order)
            if isinstance(step, IfStep):
                visit(step.then, (*key, "then"))
                visit(step.otherwise, (*key, "otherwise"))
            elif isinstance(step, ForEachStep):
                visit(step.steps, (*key, "each"))
            elif isinstance(step, FindStep):
                visit(step.otherwise, (*key, "otherwise"))

    visit(steps, prefix)
    return order


class Solver:
    def __init__(self, template: Template) -> None:
        self.template = template
        self.interpreter = Interpreter(
            template.ir, template.flow, template.endpoint, plain=template.plain
        )
        self.order = step_order(template.flow.steps)
        self.cache: dict[tuple[Any, ...], Scenario | None] = {}
        self.sorted_names: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.evaluations = 0

    # --- one assignment ----------------------------------------------------------------------

    def key(self, assignment: dict[str, Any]) -> tuple[Any, ...]:
        """The assignment as a cache key: its knobs in sorted order, their values, and the
        values' types (1 and True, or two dates of other types, are other assignments)."""
        names = tuple(assignment)
        ordered = self.sorted_names.get(names)
        if ordered is None:
            ordered = self.sorted_names[names] = tuple(sorted(names))
        values = tuple(map(assignment.__getitem__, ordered))
        return (ordered, values, tuple(map(type, values)))

    def evaluate(self, assignment: dict[str, Any]) -> Scenario | None:
        key = self.key(assignment)
        if key in self.cache:
            return self.cache[key]
        self.evaluations += 1
        scenario: Scenario | None = None
        try:
            instance = self.template.instantiate(assignment)
        except (KeyError, ValueError):
            instance = None
        if instance is not None and world_problem(instance.world) is None:
            outcome = self.interpreter.run(instance.world, Request(instance.params, instance.body))
            if outcome.invalid is None:
                scenario = Scenario(self.template, dict(assignment), instance, outcome)
        self.cache[key] = scenario
        return scenario

    # --- how close a run is to a goal ---------------------------------------------------------

    def progress(self, outcome: Outcome) -> int:
        point = outcome.point
        if point[0] in ("validation", "not_found"):
            return -1
        if point[0] in ("rule", "done"):
            return len(self.order)
        keys = [event[1] for event in outcome.events if event[1] in self.order]
        return max((self.order[k] for k in keys), default=-1)

    def score(self, goal: Goal, scenario: Scenario | None) -> tuple[Any, ...]:
        if scenario is None:
            return INVALID
        outcome = scenario.outcome
        if goal.kind == "happy":
            if outcome.ok:
                return (0, -richness(outcome))
            return (1, -self.progress(outcome), len(outcome.broken_rules))
        if goal.kind == "guard":
            if outcome.point == ("guard", goal.key):
                return (0,)
            if ("guard", goal.key, True) in outcome.events:
                return (1,)
            return (2, self.order[goal.key or ()] - self.progress(outcome))
        if goal.kind in ("if", "find"):
            if (goal.kind, goal.key, goal.side) in outcome.events:
                if outcome.ok:
                    return (0, -richness(outcome))
                return (1, -self.progress(outcome), len(outcome.broken_rules))
            if (goal.kind, goal.key, not goal.side) in outcome.events:
                return (2,)
            return (3, self.order[goal.key or ()] - self.progress(outcome))
        if goal.kind == "kept":
            if outcome.ok and self.checked(goal.rule or "", outcome):
                return (0,)
            return (1,) if outcome.ok else (2, -self.progress(outcome))
        if outcome.point == ("rule", goal.rule) and outcome.broken_rules == [goal.rule]:
            return (0,)
        if goal.rule in outcome.broken_rules:
            return (0,) if goal.kind == "rule_among" else (1,)
        return (2,) if outcome.ok else (3, -self.progress(outcome))

    def checked(self, rule_id: str, outcome: Outcome) -> bool:
        """The run wrote a record the rule is checked on."""
        rule = next((r for r in self.template.ir.behaviour.rules if r.id == rule_id), None)
        if rule is None:
            return False
        entities = rule_entities(rule)
        return any(ref.entity in entities for ref in [*outcome.created, *outcome.changed])

    def done(self, goal: Goal, score: tuple[Any, ...]) -> bool:
        """Reached, and (for the happy path and branches) nothing richer in reach."""
        return score[0] == 0 and goal.kind in ("guard", "rule", "rule_among", "kept")

    # --- the search ------------------------------------------------------------------------------

    def options(self, knob: Knob, assignment: dict[str, Any]) -> list[Any]:
        """The knob's own options, then values other knobs of its kind hold now (and their
        neighbours): how two values come to be equal, or one just above another."""
        found = list(knob.options)
        if knob.kind not in ("field", "input") or knob.field is None:
            return found
        kind = knob.field.type.kind
        for other in self.template.knobs:
            if other is knob or other.field is None or other.kind not in ("field", "input"):
                continue
            kinds = {kind, other.field.type.kind}
            if len(kinds) > 1 and kinds != {"integer", "decimal"}:
                continue
            value = self.current(other, assignment)
            if value is None or value == ABSENT:
                continue
            for near in _neighbours(value):
                if near not in found and fits(knob.field, near):
                    if kind == "integer" and not isinstance(near, int):
                        continue
                    found.append(near)
        return found

    def current(self, knob: Knob, assignment: dict[str, Any]) -> Any:
        """The value a knob gives now (a family's OWN is its first slot's own value)."""
        value = assignment.get(knob.key)
        if value != OWN or knob.representative is None or knob.field is None:
            return value
        for candidate in knob.options[1:]:
            return None if candidate is None else _own_value(self.template, knob)
        return None

    def solve(
        self,
        goal: Goal,
        seeds: list[dict[str, Any]],
        relevant: set[str],
        budget_size: int = BUDGET,
    ) -> Scenario | None:
        best: dict[str, Any] | None = None
        best_score: tuple[Any, ...] = INVALID
        for seed in seeds:
            current = self.score(goal, self.evaluate(seed))
            if current < best_score:
                best, best_score = dict(seed), current
        if best is None:
            return None
        knobs = sorted(self.template.knobs, key=lambda k: (k.key not in relevant, 0))
        budget = self.evaluations + budget_size
        while not self.done(goal, best_score) and self.evaluations < budget:
            improved = self._single(goal, best, best_score, knobs, budget)
            if improved is None and best_score[0] != 0:
                improved = self._pairs(
                    goal, best, best_score, [k for k in knobs if k.key in relevant], budget
                )
            if improved is None:
                break
            best, best_score = improved
        if best_score[0] != 0:
            return None
        return self.evaluate(best)

    def _single(
        self,
        goal: Goal,
        current: dict[str, Any],
        score: tuple[Any, ...],
        knobs: list[Knob],
        budget: int,
    ) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
        for knob in knobs:
            for value in self.options(knob, current):
                if _same(value, current[knob.key]):
                    continue
                if self.evaluations >= budget:
                    return None
                trial = {**current, knob.key: value}
                trial_score = self.score(goal, self.evaluate(trial))
                if trial_score < score:
                    return trial, trial_score
        return None

    def _pairs(
        self,
        goal: Goal,
        current: dict[str, Any],
        score: tuple[Any, ...],
        knobs: list[Knob],
        budget: int,
    ) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
        everything = self.template.knobs
        for first in knobs:
            for second in everything:
                if second.key == first.key:
                    continue
                for one in self.options(first, current):
                    if _same(one, current[first.key]):
                        continue
                    for two in self.options(second, current):
                        if _same(two, current[second.key]):
                            continue
                        if self.evaluations >= budget:
                            return None
                        trial = {**current, first.key: one, second.key: two}
                        trial_score = self.score(goal, self.evaluate(trial))
                        if trial_score < score:
                            return trial, trial_score
        return None


def richness(outcome: Outcome) -> int:
    loops = sum(int(min(event[2], 2)) for event in outcome.events if event[0] == "loop")
    return loops + len(outcome.created) + len(outcome.changed) + len(outcome.deleted)


def _same(left: Any, right: Any) -> bool:
    return type(left) is type(right) and left == right


def _neighbours(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [value]
    if isinstance(value, datetime):
        return [value, value + timedelta(hours=1), value - timedelta(hours=1)]
    if isinstance(value, date):
        return [value, value + timedelta(days=1), value - timedelta(days=1)]
    if isinstance(value, int):
        return [value, value + 1, value - 1]
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        unit = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
        return [value, value + unit, value - unit]
    return [value]


def _own_value(template: Template, knob: Knob) -> Any:
    slot = template.slots[str(knob.representative)]
    record: dict[str, Any] = {}
    for item in template.ordered(slot.entity):
        if item.type.kind == "reference":
            record[item.name] = None
            continue
        record[item.name] = arranged_value(
            slot.entity, item, slot.k, record, template.positions[slot.name]
        )
    return record.get(knob.field.name) if knob.field is not None else None
