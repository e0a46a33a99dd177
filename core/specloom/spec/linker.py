"""The last step of phase 1: link what sections say about each other.

Collections learn the reference that leads back to their parent, flows are bound
to their endpoints, and flow inputs learn which field their type comes from.
"""

from __future__ import annotations

from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    CreateStep,
    DeleteStep,
    FindStep,
    Flow,
    FlowInput,
    ForEachStep,
    Guard,
    IfStep,
    RespondStep,
    SetFromInput,
    SetStep,
    walk_steps,
)
from specloom.ir.domain import Entity, Field
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.entities import SCALAR_TYPES
from specloom.spec.names import EntityNames, did_you_mean, snake


def link(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    link_references(ir, sink)
    link_step_entities(ir)
    link_flows(ir, sink)
    link_rule_statuses(ir)


def link_step_entities(ir: ApplicationIR) -> None:
    """`Create a ticket`, `Find the stock item of ...`: the entity named in words gets
    its heading's name (an unknown one is left as written, for analysis to report)."""
    names = EntityNames(entity.name for entity in ir.domain.entities)
    for flow in ir.behaviour.flows:
        for step in walk_steps(flow.steps):
            if type(step) in _NAMELESS_STEPS:
                continue  # told apart from the ones below without slow failing isinstance
            query = None
            if isinstance(step, CreateStep):
                found = names.find(step.entity)
                if found is not None and (step.entity != found or step.variable != snake(found)):
                    step.entity, step.variable = found, snake(found)
            elif isinstance(step, (FindStep, ForEachStep)):
                query = step.query
            if query is not None:
                found = names.find(query.entity)
                if found is not None:
                    query.entity = found
                    if isinstance(step, FindStep):
                        step.variable = snake(found)


# steps that name no entity (exact types)
_NAMELESS_STEPS: frozenset[type] = frozenset(
    {Guard, SetStep, SetFromInput, AdjustStep, IfStep, DeleteStep, RespondStep}
)


def link_rule_statuses(ir: ApplicationIR) -> None:
    """A rule without its own status answers what the Errors section gives broken rules
    (comparisons) or conflicts (overlaps and counts)."""
    policy = ir.validation.error_policy
    for rule in ir.behaviour.rules:
        if not rule.status_explicit:
            compare = rule.body.kind == "compare"
            rule.status = policy.status_for("rule" if compare else "conflict")


def link_references(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    names = [entity.name for entity in ir.domain.entities]
    for entity in ir.domain.entities:
        for field in entity.fields:
            field_type = field.type
            target_name = field_type.entity
            if field_type.kind not in ("reference", "collection") or target_name is None:
                continue
            target = ir.domain.entity(target_name)
            if target is None:
                sink.add(
                    "SL204",
                    f"'{target_name}' is not an entity of this spec"
                    f"{did_you_mean(target_name, names)}"
                    f"; define '### {target_name}' under Entities or fix the name",
                    field.type.range,
                )
                continue
            if field.type.kind == "collection":
                link_collection(entity, field, target, sink)


def link_collection(parent: Entity, field: Field, child: Entity, sink: DiagnosticSink) -> None:
    back = [
        candidate.name
        for candidate in child.fields
        if candidate.type.kind == "reference" and candidate.type.entity == parent.name
    ]
    if field.type.via is not None:
        if field.type.via not in back:
            sink.add(
                "SL212",
                f"{child.name} has no reference '{field.type.via}' to {parent.name}; "
                f"'via' names one of: {', '.join(back) or 'none'}",
                field.type.range,
            )
        return
    if len(back) == 1:
        field.type.via = back[0]
        return
    if not back:
        sink.add(
            "SL212",
            f"a {parent.name} holds {child.name} records only if each one refers back to it: "
            f"add '- {snake(parent.name)}: {parent.name}, required' to {child.name}",
            field.type.range,
        )
    else:
        sink.add(
            "SL212",
            f"{child.name} refers to {parent.name} through {', '.join(back)}: say which one "
            f"holds this collection, as in 'list of {child.name} via {back[0]}'",
            field.type.range,
        )


def link_flows(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    endpoints = ir.api.endpoints
    by_id = {endpoint.id: endpoint for endpoint in endpoints}
    by_summary: dict[str, Endpoint] | None = None  # made for the first flow without an ID
    seen: dict[str, Flow] = {}
    for flow in ir.behaviour.flows:
        endpoint: Endpoint | None = None
        if flow.id:
            endpoint = by_id.get(flow.id)
        else:
            if by_summary is None:
                by_summary = _endpoints_by_summary(endpoints)
            endpoint = by_summary.get(flow.name.lower().rstrip("."))
            if endpoint is not None:
                flow.id = endpoint.id
        if endpoint is None:
            ids = [e.id for e in endpoints]
            hint = did_you_mean(flow.id, ids) if flow.id else ""
            sink.add(
                "SL406",
                (
                    f"no endpoint has the ID {flow.id}{hint}: a flow's heading starts with the "
                    "ID of the endpoint it implements, as in '### F8. Borrow a book'"
                    if flow.id
                    else "this flow names no endpoint: start its heading with the endpoint's ID, "
                    "as in '### F8. Borrow a book'"
                ),
                flow.range,
            )
            if not flow.id:
                flow.id = f"flow:{flow.name}"
            continue
        if flow.id in seen:
            sink.add(
                "SL107",
                f"endpoint {flow.id} already has a flow (line {seen[flow.id].range.start.line + 1})"
                ": merge the two",
                flow.range,
            )
            continue
        seen[flow.id] = flow
        flow.endpoint = endpoint.id
        endpoint.flow = flow.id
        link_inputs(ir, flow, endpoint, sink)


def _endpoints_by_summary(endpoints: list[Endpoint]) -> dict[str, Endpoint]:
    by_summary: dict[str, Endpoint] = {}
    for candidate in endpoints:
        if candidate.summary:
            by_summary.setdefault(candidate.summary.lower().rstrip("."), candidate)
    return by_summary


def link_inputs(ir: ApplicationIR, flow: Flow, endpoint: Endpoint, sink: DiagnosticSink) -> None:
    # The records the flow creates come first: an input is most often one of their
    # fields (`quantity` of the StockMovement that receiving stock creates).
    created = [s.entity for s in walk_steps(flow.steps) if isinstance(s, CreateStep)]
    names = [*created, endpoint.entity, endpoint.target or endpoint.entity]
    candidates = [ir.domain.entity(name) for name in dict.fromkeys(names)]
    entities = [entity for entity in candidates if entity is not None]
    for flow_input in flow.inputs:
        if not link_input(flow_input, entities):
            where = " or ".join(entity.name for entity in entities) or "the endpoint's entity"
            fields = [f.json_name for entity in entities for f in entity.fields]
            sink.add(
                "SL411",
                f"cannot tell the type of input '{flow_input.name}': it is not a field of "
                f"{where}{did_you_mean(flow_input.name, fields)}; give it a type, as in "
                f"'{flow_input.name} (string)' or '{flow_input.name} (integer)'",
                flow_input.range,
            )


def link_input(flow_input: FlowInput, entities: list[Entity]) -> bool:
    if flow_input.explicit_type is not None:
        kind = flow_input.explicit_type.lower()
        return kind in SCALAR_TYPES
    name = flow_input.name
    referenced = name[:-3] if name.endswith("_id") else None  # 'book' of 'book_id'
    for entity in entities:
        for field in entity.fields:
            kind = field.type.kind
            if kind == "reference" and field.name == referenced:
                flow_input.entity = entity.name
                flow_input.field = field.name
                flow_input.reference = field.type.entity
                return True
            if field.name == name and kind != "collection":
                flow_input.entity = entity.name
                flow_input.field = field.name
                if field.type.kind == "reference":
                    flow_input.reference = field.type.entity
                return True
    return False
