"""Cases for an entity's plain endpoints: arranged records, a request, and the answer
the oracle gives (plain create and update run as flows through the interpreter)."""

from __future__ import annotations

from typing import Any

from specloom.codegen import messages
from specloom.codegen.schemas import parent_link
from specloom.codegen.testgen.arrange import Arrangement
from specloom.codegen.testgen.emit import Case
from specloom.codegen.testgen.interpreter import Interpreter
from specloom.codegen.testgen.outcome import Outcome, Request, ref_token
from specloom.codegen.testgen.pseudo import (
    is_required_input,
    plain_flow,
    updatable_fields,
    writable_fields,
)
from specloom.codegen.testgen.slots import field_order, rule_bounds
from specloom.codegen.testgen.values import fits, sample
from specloom.codegen.testgen.world import Ref
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow
from specloom.ir.domain import Entity, Field

REMOVE = object()  # a key left out of a payload


class EntityCases:
    def __init__(self, ir: ApplicationIR, entity: Entity) -> None:
        self.ir = ir
        self.entity = entity
        self.fields = rule_bounds(ir, entity)
        self.plain = [e for e in ir.api.endpoints if e.entity == entity.name and e.flow is None]

    def endpoint(self, kind: str) -> Endpoint | None:
        return next((e for e in self.plain if e.kind == kind), None)

    def static_flow(self, endpoint: Endpoint) -> Flow:
        return Flow(id=endpoint.id, name=endpoint.summary or endpoint.kind, endpoint=endpoint.id)

    # --- create ---------------------------------------------------------------------------

    def payload(
        self, arrangement: Arrangement, k: int, endpoint: Endpoint, full: bool = True
    ) -> dict[str, Any]:
        """A valid create body: required fields, and (`full`) optional ones without a
        default; references point at records arranged for them."""
        link = parent_link(self.ir, endpoint)
        record: dict[str, Any] = {}
        body: dict[str, Any] = {}
        writable = {f.name for f in writable_fields(self.entity)}
        for item in field_order(self.entity, self.fields):
            if item.name not in writable or (link is not None and item.name == link.name):
                continue
            wanted = is_required_input(item) or (full and item.default is None)
            if item.type.kind == "reference":
                if is_required_input(item):
                    body[item.json_name] = arrangement.add(str(item.type.entity))
                continue
            if not wanted:
                continue
            value = sample(self.entity.name, item, k, record)
            if value is None or not fits(item, value, record, clock=True):
                if is_required_input(item):
                    raise ValueError(f"no valid value for {self.entity.name}.{item.name}")
                continue
            record[item.name] = value
            body[item.json_name] = value
        return body

    def parents(self, arrangement: Arrangement, endpoint: Endpoint) -> list[Ref]:
        return [arrangement.add(p.entity) for p in endpoint.parameters]

    def run(
        self, arrangement: Arrangement, endpoint: Endpoint, params: list[Ref], body: dict[str, Any]
    ) -> Case:
        flow = plain_flow(self.ir, endpoint)
        if flow is None:
            raise ValueError(f"{endpoint.id} is not a create or update endpoint")
        sent = {
            key: value.id if isinstance(value, Ref) else value
            for key, value in body.items()
            if value is not REMOVE
        }
        interpreter = Interpreter(self.ir, flow, endpoint, plain=True)
        outcome = interpreter.run(arrangement.world, Request([p.id for p in params], sent))
        return Case(
            world=arrangement.world,
            order=list(arrangement.order),
            endpoint=endpoint,
            flow=flow,
            params=params,
            body={key: value for key, value in body.items() if value is not REMOVE},
            outcome=outcome,
            moves={self.entity.name} if endpoint.kind == "create" else set(),
            writes={(self.entity.name, f.name) for f in updatable_fields(self.entity, endpoint)},
        )

    def create_case(
        self, endpoint: Endpoint, overrides: dict[str, Any] | None = None, full: bool = True
    ) -> tuple[Arrangement, Case]:
        arrangement = Arrangement(self.ir)
        params = self.parents(arrangement, endpoint)
        body = self.payload(arrangement, 0, endpoint, full)
        body.update(overrides or {})
        return arrangement, self.run(arrangement, endpoint, params, body)

    # --- records already stored -----------------------------------------------------------

    def stored(self, arrangement: Arrangement, values: dict[str, Any] | None = None) -> Ref:
        """One record of the entity, with its optional fields filled where they can be."""
        filled: dict[str, Any] = {}
        record: dict[str, Any] = {}
        k = len(arrangement.world.all(self.entity.name))
        for item in field_order(self.entity, self.fields):
            if item.type.kind == "reference" or item.name in (values or {}):
                continue
            if not item.read_only and not item.required and item.default is None:
                value = sample(self.entity.name, item, k, record)
                if value is not None and fits(item, value, record):
                    filled[item.name] = value
                    record[item.name] = value
        filled.update(values or {})
        return arrangement.add(self.entity.name, filled)

    def single(self, endpoint: Endpoint, arrangement: Arrangement, ref: Ref) -> list[Ref]:
        """The path records of an endpoint on one record (`/orders/{id}/lines/{line_id}`)."""
        params: list[Ref] = []
        record = arrangement.world.deref(ref)
        for parameter in endpoint.parameters:
            if parameter.entity == self.entity.name:
                params.append(ref)
                continue
            link = next(
                (
                    f
                    for f in self.entity.fields
                    if f.type.kind == "reference" and f.type.entity == parameter.entity
                ),
                None,
            )
            target = record.values.get(link.name) if link is not None else None
            params.append(Ref(parameter.entity, int(target or 0)))
        return params

    def get_case(self, endpoint: Endpoint) -> Case:
        arrangement = Arrangement(self.ir)
        ref = self.stored(arrangement)
        outcome = Outcome(200, None, ("done",), arrangement.world, body=ref)
        flow = self.static_flow(endpoint)
        return Case(
            arrangement.world,
            list(arrangement.order),
            endpoint,
            flow,
            self.single(endpoint, arrangement, ref),
            {},
            outcome,
        )

    def update_case(self, endpoint: Endpoint) -> Case | None:
        """An update that changes the first updatable field it can to another value."""
        arrangement = Arrangement(self.ir)
        ref = self.stored(arrangement)
        params = self.single(endpoint, arrangement, ref)
        record = arrangement.world.deref(ref).values
        for item in updatable_fields(self.entity, endpoint):
            if item.type.kind == "reference":
                continue
            for k in range(1, 4):
                value = sample(self.entity.name, item, k, record)
                if value is None or value == record.get(item.name):
                    continue
                if not fits(item, value, {**record, item.name: value}, clock=True):
                    continue
                case = self.run(arrangement, endpoint, params, {item.json_name: value})
                if case.outcome.ok:
                    return case
        return None

    def delete_case(self, endpoint: Endpoint) -> Case:
        """A record with one child in each of its collections: all of them go."""
        arrangement = Arrangement(self.ir)
        ref = self.stored(arrangement)
        arrangement.private.add(ref)  # only its own children refer to it
        for item in self.entity.fields:
            if item.type.kind == "collection" and item.type.entity and item.type.via:
                arrangement.add(item.type.entity, {item.type.via: ref})
        after = arrangement.world.copy()
        deleted = after.delete(ref)
        outcome = Outcome(204, None, ("done",), after, deleted=deleted)
        flow = self.static_flow(endpoint)
        params = self.single(endpoint, arrangement, ref)
        moves = {r.entity for r in deleted}
        return Case(
            arrangement.world, list(arrangement.order), endpoint, flow, params, {}, outcome, moves
        )

    def referenced_case(self, endpoint: Endpoint, status: int) -> Case | None:
        """A record another record still refers to through a plain reference: 409."""
        owned = {
            (str(f.type.entity), str(f.type.via))
            for f in self.entity.fields
            if f.type.kind == "collection"
        }
        for other in self.ir.domain.entities:
            for item in other.fields:
                if item.type.kind != "reference" or item.type.entity != self.entity.name:
                    continue
                if (other.name, item.name) in owned:
                    continue
                arrangement = Arrangement(self.ir)
                ref = self.stored(arrangement)
                arrangement.private.add(ref)
                arrangement.add(other.name, {item.name: ref})
                if arrangement.problem() is not None:
                    continue
                message = messages.still_referenced(self.entity.name, ref_token(0), other.name)
                outcome = Outcome(status, message, ("refused",), arrangement.world, refs=[ref])
                params = self.single(endpoint, arrangement, ref)
                flow = self.static_flow(endpoint)
                moves = {self.entity.name, other.name}
                return Case(
                    arrangement.world,
                    list(arrangement.order),
                    endpoint,
                    flow,
                    params,
                    {},
                    outcome,
                    moves,
                )
        return None

    def delete_children_case(self, endpoint: Endpoint) -> Case | None:
        parent_name = endpoint.parent or endpoint.target
        link = parent_link(self.ir, endpoint)
        if parent_name is None or link is None:
            return None
        arrangement = Arrangement(self.ir)
        parent = arrangement.add(parent_name)
        other = arrangement.add(parent_name)
        for owner in (parent, parent, other):
            arrangement.add(self.entity.name, {link.name: owner})
        after = arrangement.world.copy()
        deleted: list[Ref] = []
        for record in arrangement.world.all(self.entity.name):
            if record.values.get(link.name) == parent.id:
                deleted += after.delete(record.ref)
        outcome = Outcome(204, None, ("done",), after, deleted=deleted)
        flow = self.static_flow(endpoint)
        moves = {r.entity for r in deleted}
        return Case(
            arrangement.world, list(arrangement.order), endpoint, flow, [parent], {}, outcome, moves
        )


def field_by_name(entity: Entity, name: str) -> Field | None:
    """A field named as in a filter: `room` or `room_id`."""
    return entity.field(name) or entity.field(name.removesuffix("_id"))
