"""The scenario solver: for every flow of every example spec it finds a world and a
request for the happy path, for each guard failing first, and for each branch; the
oracle run on what it finds does what the goal says, in a world the spec allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from specloom.codegen.testgen.outcome import Request
from specloom.codegen.testgen.scenarios import FlowScenarios, walk_keyed
from specloom.codegen.testgen.solver import Scenario
from specloom.codegen.testgen.validity import world_problem
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import FindStep, Guard, IfStep
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPECS = sorted(p.name for p in EXAMPLES.glob("*.spec.md") if p.name != "prose.spec.md")


def compiled(name: str) -> ApplicationIR:
    result = compile_spec((EXAMPLES / name).read_text(encoding="utf-8"))
    assert result.errors == []
    return result.ir


def rerun(scenarios: FlowScenarios, scenario: Scenario) -> None:
    """The scenario's world is one the app could hold, and running it again gives the
    same answer (the oracle keeps no state between runs)."""
    instance = scenario.instance
    assert world_problem(instance.world) is None
    again = scenarios.solver.interpreter.run(
        instance.world, Request(instance.params, instance.body)
    )
    assert (again.status, again.message, again.point) == (
        scenario.outcome.status,
        scenario.outcome.message,
        scenario.outcome.point,
    )


@pytest.mark.parametrize("spec", SPECS)
def test_every_flow_has_a_happy_path_a_failure_per_guard_and_each_branch(spec: str) -> None:
    ir = compiled(spec)
    for flow in ir.behaviour.flows:
        endpoint = ir.api.endpoint(flow.endpoint or "")
        assert endpoint is not None
        scenarios = FlowScenarios(ir, flow, endpoint)
        happy = scenarios.happy()
        assert happy is not None, flow.id
        assert happy.outcome.ok
        assert 200 <= happy.outcome.status < 300
        rerun(scenarios, happy)
        for key, step in walk_keyed(flow.steps):
            if isinstance(step, Guard):
                failed = scenarios.guard(key, step)
                assert failed is not None, (flow.id, key)
                assert failed.outcome.point == ("guard", key)
                assert failed.outcome.status == step.status
                assert failed.outcome.world.refs() == failed.instance.world.refs()
                rerun(scenarios, failed)
            elif isinstance(step, IfStep | FindStep):
                kind = "if" if isinstance(step, IfStep) else "find"
                for side in (True, False):
                    taken = scenarios.branch(kind, key, side, step)
                    assert taken is not None, (flow.id, key, side)
                    assert (kind, key, side) in taken.outcome.events
                    rerun(scenarios, taken)


def test_scenarios_are_deterministic() -> None:
    ir = compiled("timesheet.spec.md")
    flow = ir.behaviour.flow("F7")
    assert flow is not None
    endpoint = ir.api.endpoint("F7")
    assert endpoint is not None
    first = FlowScenarios(ir, flow, endpoint).happy()
    second = FlowScenarios(ir, flow, endpoint).happy()
    assert first is not None
    assert second is not None
    assert first.assignment == second.assignment
    assert first.instance.body == second.instance.body


def test_a_guard_on_a_count_gets_enough_children() -> None:
    ir = compiled("clinic.spec.md")
    flow = ir.behaviour.flow("F4")
    assert flow is not None
    endpoint = ir.api.endpoint("F4")
    assert endpoint is not None
    scenarios = FlowScenarios(ir, flow, endpoint)
    guard = flow.steps[3]
    assert isinstance(guard, Guard)
    failed = scenarios.guard((3,), guard)
    assert failed is not None
    missed = [r for r in failed.instance.world.all("Appointment") if r.values["status"] == "MISSED"]
    assert len(missed) >= 3
