"""The test module of one entity: its plain endpoints (those without a flow) and the
constraints of its fields, a test per requirement ID of the task."""

from __future__ import annotations

from functools import partial

from specloom.codegen.testgen.constrainttests import ConstraintTests
from specloom.codegen.testgen.entitycases import EntityCases
from specloom.codegen.testgen.entitytests import EndpointTests, Planned
from specloom.codegen.testgen.flowtests import test_module
from specloom.codegen.testgen.guarded import attempt
from specloom.codegen.testgen.memo import per_ir
from specloom.codegen.testgen.policy import policy_of_lines
from specloom.codegen.testgen.pysrc import Module, comment_lines, function
from specloom.codegen.testgen.roundtrip import round_trip
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity


def render_entity_tests(ir: ApplicationIR, entity: Entity, requirement_ids: list[str]) -> str:
    module = Module(
        f"Tests of {entity.name}: its endpoints without a flow and the constraints of its fields."
    )
    test_module(module)
    cases = EntityCases(ir, entity)
    endpoint_tests = EndpointTests(cases, module)
    planned: list[Planned] = endpoint_tests.plan()
    wanted = list(dict.fromkeys(requirement_ids))
    notes: list[str] = list(endpoint_tests.notes)
    covered = {requirement for requirement, *_ in planned}
    groups: dict[str, list[Endpoint]] = {}
    for endpoint in cases.plain:
        if endpoint.crud_group:
            groups.setdefault(endpoint.crud_group, []).append(endpoint)
    for group, members in groups.items():
        if group not in wanted:
            continue
        lines = attempt(notes, group, partial(round_trip, cases, module, members))
        if lines is not None:
            planned.insert(
                0,
                (
                    group,
                    "round_trip",
                    f"{group} CRUD: create, read, change and delete one {entity.name}",
                    lines,
                ),
            )
            covered.add(group)
    constraints = ConstraintTests(cases, module)
    for requirement in wanted:
        if requirement in covered:
            continue
        if requirement.startswith(f"{entity.name}."):
            result = attempt(notes, requirement, partial(constraints.test, requirement))
            if result is None:
                continue
            if isinstance(result, str):
                notes.append(
                    result if result.startswith(requirement) else f"{requirement}: {result}"
                )
                continue
            stem, lines = result
            summary = requirement_texts(ir).get(requirement, requirement)
            planned.append((requirement, stem, summary, lines))
            covered.add(requirement)
        elif requirement in groups:
            first = next((p for p in planned if p[0] in {e.id for e in groups[requirement]}), None)
            if first is not None:
                planned.append((requirement, first[1], first[2], first[3]))
                covered.add(requirement)
    for requirement in wanted:
        if requirement not in covered and not any(requirement in note for note in notes):
            notes.append(f"{requirement}: nothing of this entity's plain endpoints implements it.")
    for requirement, stem, summary, lines in planned:
        name = module.test_name(requirement, stem)
        covers = [requirement, *policy_of_lines(ir, lines)]
        module.blocks.append(function(name, summary, covers, lines))
    for note in notes:
        module.blocks.append("\n".join(comment_lines(f"Not tested here: {note}")))
    return module.render()


@per_ir
def requirement_texts(ir: ApplicationIR) -> dict[str, str]:
    return {found.id: found.text for found in ir.validation.requirements}
