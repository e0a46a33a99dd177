"""Plain create and update endpoints written as flows, so the oracle runs them too: a
create is `Create <Entity> with <each field sent>`, an update `Set <fields> from the
input, where given`. Their inputs are the fields of the request schemas."""

from __future__ import annotations

from specloom.codegen.schemas import parent_link
from specloom.codegen.testgen.memo import per_ir
from specloom.ir.api import Endpoint, PathParameter
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    CreateStep,
    FieldValue,
    Flow,
    FlowInput,
    PathExpr,
    SetFromInput,
    Step,
)
from specloom.ir.domain import Entity, Field
from specloom.spec.names import snake


def writable_fields(entity: Entity) -> list[Field]:
    """What a client sends to create a record: stored fields that are not read-only."""
    return [f for f in entity.fields if f.is_stored and not f.read_only]


def updatable_fields(entity: Entity, endpoint: Endpoint) -> list[Field]:
    """What an update endpoint lets a client change: the fields it names, else all."""
    writable = writable_fields(entity)
    if not endpoint.updatable:
        return writable
    return [
        f for f in writable if f.name in endpoint.updatable or f.json_name in endpoint.updatable
    ]


def is_required_input(item: Field) -> bool:
    """The create schema requires a field that is required and has no default."""
    return item.required and item.default is None


def field_input(entity: Entity, item: Field, optional: bool) -> FlowInput:
    reference = str(item.type.entity) if item.type.kind == "reference" else None
    return FlowInput(
        name=item.json_name,
        optional=optional,
        entity=entity.name,
        field=item.name,
        reference=reference,
    )


ORM = "orm"  # the endpoint id of a write made through the ORM, not through the API


def orm_write(ir: ApplicationIR, entity: Entity, kind: str) -> tuple[Flow, Endpoint]:
    """A write a test makes through the ORM and `app.rules.commit`: adding a record
    (`create`) or changing a stored one (`update`), any stored field, read-only or not."""
    fields = [f for f in entity.fields if f.is_stored]
    parameters = [PathParameter(name="id", entity=entity.name)] if kind == "update" else []
    endpoint = Endpoint(
        id=ORM,
        method="PATCH" if kind == "update" else "POST",
        path=f"/{snake(entity.name)}" + ("/{id}" if kind == "update" else ""),
        kind=kind,
        entity=entity.name,
        target=entity.name if kind == "update" else None,
        parameters=parameters,
    )
    target = snake(entity.name)
    steps: list[Step] = []
    if kind == "create":
        inputs = [field_input(entity, f, not is_required_input(f)) for f in fields]
        values = [FieldValue(field=f.name, value=PathExpr(parts=[f.name])) for f in fields]
        steps.append(CreateStep(entity=entity.name, variable=target, fields=values))
    else:
        inputs = [field_input(entity, f, True) for f in fields]
        paths = [PathExpr(parts=[target, f.name]) for f in fields]
        steps.append(SetFromInput(targets=paths, only_given=True))
    flow = Flow(id=ORM, name=f"{kind} {entity.name}", endpoint=ORM, inputs=inputs, steps=steps)
    return flow, endpoint


def plain_flow(ir: ApplicationIR, endpoint: Endpoint) -> Flow | None:
    """The flow a plain create or update endpoint stands for (None for other kinds);
    made once per endpoint of the IR (the flow is shared: read it, never change it)."""
    known = _plain_flows(ir)
    found = known.get(endpoint.id)
    if found is not None and found[0] is endpoint:
        return found[1]
    flow = _plain_flow(ir, endpoint)
    if any(item is endpoint for item in ir.api.endpoints):
        known[endpoint.id] = (endpoint, flow)
    return flow


@per_ir
def _plain_flows(ir: ApplicationIR) -> dict[str, tuple[Endpoint, Flow | None]]:
    """plain_flow of the IR's endpoints, by endpoint ID, as they are asked for."""
    return {}


def _plain_flow(ir: ApplicationIR, endpoint: Endpoint) -> Flow | None:
    entity = ir.domain.entity(endpoint.entity)
    if entity is None:
        return None
    steps: list[Step] = []
    inputs: list[FlowInput] = []
    if endpoint.kind == "create":
        link = parent_link(ir, endpoint)
        values: list[FieldValue] = []
        for item in writable_fields(entity):
            if link is not None and item.name == link.name:
                continue
            inputs.append(field_input(entity, item, not is_required_input(item)))
            values.append(FieldValue(field=item.name, value=PathExpr(parts=[item.name])))
        if link is not None and endpoint.parent is not None:
            parent = PathExpr(parts=[snake(endpoint.parent)])
            values.append(FieldValue(field=link.name, value=parent))
        steps.append(CreateStep(entity=entity.name, variable=snake(entity.name), fields=values))
    elif endpoint.kind == "update":
        target = snake(endpoint.target or entity.name)
        fields = updatable_fields(entity, endpoint)
        inputs = [field_input(entity, item, True) for item in fields]
        paths = [PathExpr(parts=[target, item.name]) for item in fields]
        if paths:
            steps.append(SetFromInput(targets=paths, only_given=True))
    else:
        return None
    name = endpoint.summary or f"{endpoint.kind} {entity.name}"
    return Flow(id=endpoint.id, name=name, endpoint=endpoint.id, inputs=inputs, steps=steps)
