"""The test module of one flow: the happy path with every effect, each guard failing,
each branch, and 404 for an unknown path id or reference input."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from specloom.codegen import messages
from specloom.codegen.testgen.describe import condition_words
from specloom.codegen.testgen.emit import UNKNOWN_ID, CaseWriter, Request, scenario_case
from specloom.codegen.testgen.guarded import attempt
from specloom.codegen.testgen.inputs import input_field
from specloom.codegen.testgen.policy import policy_ids
from specloom.codegen.testgen.probes import refused_input
from specloom.codegen.testgen.pysrc import Module, comment_lines, function
from specloom.codegen.testgen.scenarios import FlowScenarios, walk_keyed
from specloom.codegen.testgen.solver import Scenario
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import FindStep, Flow, Guard, IfStep
from specloom.plan import naming

WORDS = 8


@dataclass
class PlannedTest:
    """One test before it is named: the requirement it is named after can change."""

    stem: str  # the name after `test_<requirement>_`
    summary: str
    lines: list[str]
    requirements: list[str] = field(default_factory=list)


def test_module(module: Module) -> None:
    module.need("fastapi.testclient", "TestClient")
    module.need("sqlalchemy.orm", "Session")


def words(text: str) -> str:
    return naming.identifier(text, limit=WORDS)


class FlowTests:
    def __init__(self, ir: ApplicationIR, flow: Flow, endpoint: Endpoint, module: Module):
        self.ir = ir
        self.flow = flow
        self.endpoint = endpoint
        self.module = module
        self.scenarios = FlowScenarios(ir, flow, endpoint)
        self.tests: list[PlannedTest] = []
        self.not_found = ir.validation.error_policy.status_for("not_found")
        self.notes: list[str] = []

    def writer(self, scenario: Scenario) -> CaseWriter:
        return CaseWriter(self.ir, self.module, scenario_case(scenario))

    def plan(self) -> None:
        happy = attempt(self.notes, f"{self.flow.id} (its happy path)", self.scenarios.happy)
        title = f"{self.flow.id} {self.flow.name}"
        if happy is None:
            self.notes.append(
                f"{self.flow.id}: no world the spec allows lets '{self.flow.name}' succeed, so "
                "only its refusals are tested."
            )
        else:
            summary = f"{title}: the request succeeds, with every effect on the stored records"
            self.tests.append(
                PlannedTest(words(self.flow.name), summary, self.writer(happy).lines())
            )
        for key, step in walk_keyed(self.flow.steps):
            if isinstance(step, Guard):
                what = f"{self.flow.id} (a guard: {step.message or 'no message'})"
                attempt(self.notes, what, partial(self.guard, key, step))
        for kind, key, step in self.scenarios.branch_points():
            for side in (True, False):
                what = f"{self.flow.id} (a branch)"
                attempt(self.notes, what, partial(self.branch, kind, key, side, step))
        if happy is not None:
            attempt(self.notes, f"{self.flow.id} (unknown ids)", lambda: self.unknown_ids(happy))
            attempt(
                self.notes, f"{self.flow.id} (an invalid input)", lambda: self.invalid_input(happy)
            )

    def guard(self, key: tuple[object, ...], step: Guard) -> None:
        scenario = self.scenarios.guard(key, step)
        what = step.message or condition_words(step.condition, negate=True)
        if scenario is None:
            self.notes.append(
                f"{self.flow.id}: the guard '{what}' ({step.status}) is not tested: no world the "
                "search tried, among those the spec allows, makes it the first to fail (the "
                "steps before it, or the rules, keep it true)."
            )
            return
        summary = f"{self.flow.id}: refused with {step.status} when {what}; nothing is stored"
        self.tests.append(
            PlannedTest(f"fails_when_{words(what)}", summary, self.writer(scenario).lines())
        )

    def branch(
        self, kind: str, key: tuple[object, ...], side: bool, step: IfStep | FindStep
    ) -> None:
        scenario = self.scenarios.branch(kind, key, side, step)
        if isinstance(step, IfStep):
            what = condition_words(step.condition, negate=not side)
            stem = f"when_{words(what)}"
            summary = f"{self.flow.id}: when {what}"
        else:
            entity = step.query.entity
            what = f"a matching {entity} exists" if side else f"no {entity} matches"
            stem = f"when_{words(what)}"
            summary = f"{self.flow.id}: when {what}"
        if scenario is None:
            self.notes.append(
                f"{self.flow.id}: no world the spec allows reaches the branch '{what}'."
            )
            return
        self.tests.append(PlannedTest(stem, summary, self.writer(scenario).lines()))

    def invalid_input(self, happy: Scenario) -> None:
        """422 before any step for a body that breaks an input's constraints."""
        for item in self.flow.inputs:
            if item.reference is not None and item.name.endswith("_id"):
                continue
            value = refused_input(input_field(self.ir, item), item.explicit_type is not None)
            if value is not None:
                request = Request(invalid=(item.name, value))
                what = f"an invalid {item.name}"
                break
        else:
            required = [i.name for i in self.flow.inputs if not i.optional]
            if not required:
                return
            request = Request(left_out=required[0])
            what = f"a request without {required[0]}"
        lines = self.writer(happy).refused(422, None, request)
        summary = f"{self.flow.id}: 422 for {what}, before any step; nothing is stored"
        extra = policy_ids(self.ir, "validation")
        self.tests.append(PlannedTest(f"refuses_{words(what)}", summary, lines, extra))

    def unknown_ids(self, happy: Scenario) -> None:
        for parameter in self.endpoint.parameters:
            message = messages.not_found(parameter.entity, UNKNOWN_ID)
            request = Request(unknown_param=parameter.name)
            lines = self.writer(happy).refused(self.not_found, message, request)
            what = f"an unknown {parameter.entity} in the path"
            summary = f"{self.flow.id}: {self.not_found} for {what}, before any guard"
            extra = policy_ids(self.ir, "not_found")
            self.tests.append(PlannedTest(f"answers_404_for_{words(what)}", summary, lines, extra))
        for item in self.flow.inputs:
            if item.reference is None or not item.name.endswith("_id"):
                continue
            message = messages.not_found(item.reference, UNKNOWN_ID)
            request = Request(unknown_input=item.name)
            lines = self.writer(happy).refused(self.not_found, message, request)
            what = f"an unknown {item.name}"
            summary = f"{self.flow.id}: {self.not_found} for {what}, before any guard"
            extra = policy_ids(self.ir, "not_found")
            self.tests.append(PlannedTest(f"answers_404_for_{words(what)}", summary, lines, extra))

    def render(self, requirement_ids: list[str]) -> None:
        """Name each test after a requirement: the flow's own ID first; each other ID of
        the task (its endpoint's) names one of the later tests, or repeats the first."""
        ids = list(dict.fromkeys(requirement_ids)) or [self.flow.id]
        primary = self.flow.id if self.flow.id in ids else ids[0]
        others = [i for i in ids if i != primary]
        named: list[tuple[str, PlannedTest]] = [(primary, test) for test in self.tests]
        for index, other in enumerate(others):
            position = len(named) - 1 - index
            if position > 0:
                named[position] = (other, named[position][1])
            elif self.tests:
                named.append((other, self.tests[0]))
        for requirement, test in named:
            name = self.module.test_name(requirement, test.stem)
            covers = [requirement] if requirement != primary else [primary]
            if test is self.tests[0] and requirement == primary:
                covers = ids
            covers = [*covers, *test.requirements]
            self.module.blocks.append(function(name, test.summary, covers, test.lines))
        for note in self.notes:
            self.module.blocks.append("\n".join(comment_lines(note)))


def render_flow_tests(ir: ApplicationIR, flow: Flow, requirement_ids: list[str]) -> str:
    module = Module(f"Tests of flow {flow.id}: {flow.name}.")
    test_module(module)
    endpoint = ir.api.endpoint(flow.endpoint) if flow.endpoint else None
    if endpoint is None:
        note = (
            f"{flow.id}: the flow has no endpoint, so no request reaches it: it cannot be tested."
        )
        module.blocks.append("\n".join(comment_lines(note)))
        return module.render()
    notes: list[str] = []
    tests = attempt(notes, flow.id, lambda: FlowTests(ir, flow, endpoint, module))
    if tests is None:
        module.blocks += ["\n".join(comment_lines(note)) for note in notes]
        return module.render()
    tests.plan()
    tests.render(requirement_ids)
    return module.render()
