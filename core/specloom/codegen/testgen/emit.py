"""One case as test code: arrange its world through `db`, send its request through
`client`, then assert what the oracle says: the status, the detail or the body, and
the stored state read back (every effect, or nothing changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from specloom.codegen.testgen.arrange import arrangement_lines
from specloom.codegen.testgen.bulk import bulk_lines
from specloom.codegen.testgen.outcome import REF_TOKEN, Outcome
from specloom.codegen.testgen.pysrc import (
    Clock,
    Module,
    expect_json,
    expect_value,
    fstring_source,
    json_value,
    py_string,
    string_source,
)
from specloom.codegen.testgen.solver import Scenario
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY
from specloom.codegen.testgen.world import Record, Ref, World
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow
from specloom.ir.domain import Entity, Field
from specloom.spec.names import plural, snake

UNKNOWN_ID = 999999


@dataclass
class Case:
    """An arranged world, one request, and what the oracle says it answers."""

    world: World
    order: list[tuple[str, Ref]]  # the arranged records, referenced ones first
    endpoint: Endpoint
    flow: Flow
    params: list[Ref]  # the records of the path parameters
    body: dict[str, Any]  # what the client sends; a reference input holds its record
    outcome: Outcome
    moves: set[str] = field(default_factory=set)  # entities whose records come or go
    writes: set[tuple[str, str]] = field(default_factory=set)  # (entity, field) written
    bulk: list[list[Ref]] = field(default_factory=list)  # records arranged in a loop


def scenario_case(scenario: Scenario) -> Case:
    template, instance = scenario.template, scenario.instance
    body: dict[str, Any] = {}
    for item in template.flow.inputs:
        if item.name not in instance.body:
            continue
        if item.name in template.input_slots:
            slot = template.input_slots[item.name]
            body[item.name] = instance.refs[instance.aliases.get(slot, slot)]
            continue
        body[item.name] = instance.body[item.name]
    return Case(
        world=instance.world,
        order=[(name, instance.refs[name]) for name in instance.created],
        endpoint=template.endpoint,
        flow=template.flow,
        params=[instance.refs[name] for name in template.path_slots],
        body=body,
        outcome=scenario.outcome,
        moves=set(template.facts.moves),
        writes=set(template.facts.writes),
    )


@dataclass
class Request:
    """How the test calls the endpoint: an unknown id in the path or for an input."""

    unknown_param: str | None = None
    unknown_input: str | None = None
    invalid: tuple[str, Any] | None = None  # an input sent with a value it refuses
    left_out: str | None = None  # a required input the request leaves out


class CaseWriter:
    """Writes the lines of one test for one case."""

    def __init__(self, ir: ApplicationIR, module: Module, case: Case) -> None:
        self.ir = ir
        self.module = module
        self.case = case
        self.endpoint = case.endpoint
        self.clock = Clock(module)
        self.names: dict[Ref, str] = {}
        for name, ref in case.order:
            self.names.setdefault(ref, name)

    def entity(self, name: str) -> Entity:
        found = self.ir.domain.entity(name)
        if found is None:
            raise KeyError(name)
        return found

    def arrange(self) -> list[str]:
        lines = arrangement_lines(self.ir, self.clock, self.case.world, self.case.order)
        loop = bulk_lines(self.ir, self.clock, self.case.world, self.case.bulk, self.names)
        return lines + loop

    # --- act -------------------------------------------------------------------------------

    def path(self, request: Request, kept: bool = False) -> str:
        """The request path; `kept`: the ids saved before the request (`order_id`)."""
        path = self.endpoint.path
        for index, parameter in enumerate(self.endpoint.parameters):
            name = self.names[self.case.params[index]]
            if request.unknown_param == parameter.name:
                value = str(UNKNOWN_ID)
            elif kept:
                value = f"{{{name}_id}}"
            else:
                value = f"{{{name}.id}}"
            path = path.replace("{" + parameter.name + "}", value, 1)
        return f'f"{path}"' if "{" in path else py_string(path)

    def payload(self, request: Request) -> str | None:
        if not self.case.flow.inputs:
            return None
        items: list[str] = []
        body = dict(self.case.body)
        if request.invalid is not None:
            body[request.invalid[0]] = request.invalid[1]
        body.pop(request.left_out or "", None)
        for key, value in body.items():
            if request.unknown_input == key:
                items.append(f"{py_string(key)}: {UNKNOWN_ID}")
            elif isinstance(value, Ref):
                items.append(f"{py_string(key)}: {self.names[value]}.id")
            else:
                items.append(f"{py_string(key)}: {json_value(value, self.clock)}")
        return "{" + ", ".join(items) + "}"

    def act(self, request: Request) -> list[str]:
        method = self.endpoint.method.lower()
        path = self.path(request)
        payload = self.payload(request)
        if payload is None:
            return [f"response = client.{method}({path})"]
        if method in ("get", "delete"):
            verb = py_string(method.upper())
            return [f"response = client.request({verb}, {path}, json={payload})"]
        return [f"response = client.{method}({path}, json={payload})"]

    # --- assert ------------------------------------------------------------------------------

    def moving(self) -> list[str]:
        """Entities whose records the run creates or deletes (their ids are compared)."""
        outcome = self.case.outcome
        names = {ref.entity for ref in [*outcome.created, *outcome.deleted]}
        return sorted(names | self.case.moves)

    def capture(self, entities: list[str]) -> list[str]:
        """Before the request: the ids of the arranged records of these entities."""
        lines = []
        for entity in entities:
            self.module.need("sqlalchemy", "select")
            model = self.module.model(entity)
            lines.append(f"{snake(entity)}_ids = list(db.scalars(select({model}.id)).all())")
        return lines

    def failure(self, outcome: Outcome, moving: list[str]) -> list[str]:
        """A refused request: its status, its detail, and nothing changed."""
        lines = [f"assert response.status_code == {outcome.status}, response.text"]
        if len(outcome.broken_messages) > 1:
            # several checks refuse the write; which the app reports first is its choice
            shown = ", ".join(string_source(m) for m in dict.fromkeys(outcome.broken_messages))
            lines.append(f'assert response.json()["detail"] in {{{shown}}}')
        elif outcome.message is not None:
            detail = message_source(outcome.message, outcome.refs, self.names)
            lines.append(f'assert response.json() == {{"detail": {detail}}}')
        lines.append("db.expire_all()")
        for entity in moving:
            self.module.need("sqlalchemy", "select")
            model = self.module.model(entity)
            ids = f"{snake(entity)}_ids"
            lines.append(f"assert sorted(db.scalars(select({model}.id)).all()) == sorted({ids})")
        world = self.case.world
        for name, ref in self.case.order:
            if self.names[ref] != name:
                continue
            record = world.deref(ref)
            for item in self.entity(ref.entity).fields:
                if item.is_stored and (ref.entity, item.name) in self.case.writes:
                    lines.append(self.stored(f"{name}.{attribute(item)}", item, record))
        return lines

    def stored(
        self, target: str, item: Field, record: Record, new: dict[Ref, str] | None = None
    ) -> str:
        value = record.values.get(item.name)
        if item.type.kind == "reference":
            if value is None:
                return f"assert {target} is None"
            return (
                f"assert {target} == {self.expression(Ref(str(item.type.entity), value), new)}.id"
            )
        return expect_value(target, value, self.clock, value == REF_NOW)

    def expression(self, ref: Ref, new: dict[Ref, str] | None) -> str:
        if new is not None and ref in new:
            return new[ref]
        return self.names[ref]

    def success(
        self, outcome: Outcome, moving: list[str], whole: set[Ref] | None = None
    ) -> list[str]:
        """A request that succeeds: status, body, and every record it touched (`whole`:
        records whose every field is asserted, changed or not)."""
        lines = [f"assert response.status_code == {outcome.status}, response.text"]
        after, before = outcome.world, self.case.world
        new: dict[Ref, str] = {}
        lines.append("db.expire_all()")
        for entity in moving:
            self.module.need("sqlalchemy", "select")
            model = self.module.model(entity)
            rows, ids = f"{snake(entity)}_rows", f"{snake(entity)}_ids"
            lines.append(f"{rows} = db.scalars(select({model}).order_by({model}.id)).all()")
            survivors = [r for r in before.all(entity) if after.get(entity, r.id) is not None]
            kept = ", ".join(f"{self.names[r.ref]}.id" for r in survivors)
            lines.append(f"assert [row.id for row in {rows} if row.id in {ids}] == [{kept}]")
            created = sorted((r for r in outcome.created if r.entity == entity), key=lambda r: r.id)
            fresh = f"new_{plural(snake(entity))}"
            lines.append(f"{fresh} = [row for row in {rows} if row.id not in {ids}]")
            lines.append(f"assert len({fresh}) == {len(created)}")
            for index, ref in enumerate(created):
                new[ref] = f"{fresh}[{index}]"
        if outcome.body is not None:
            lines += self.body(outcome.body, after, new)
        for ref in outcome.created:
            record = after.deref(ref)
            for item in self.entity(ref.entity).fields:
                if item.is_stored:
                    lines.append(self.stored(f"{new[ref]}.{attribute(item)}", item, record, new))
        for ref in sorted({*outcome.changed, *(whole or set())}):
            if after.get(ref.entity, ref.id) is None:
                continue
            old, record = before.deref(ref), after.deref(ref)
            for item in self.entity(ref.entity).fields:
                if not item.is_stored:
                    continue
                was, now = old.values.get(item.name), record.values.get(item.name)
                if was == now and not (whole and ref in whole):
                    continue
                line = self.stored(f"{self.names[ref]}.{attribute(item)}", item, record, new)
                lines.append(line if was == now else f"{line}  # was {short(was)}")
        return lines

    def body(self, value: Ref | list[Ref], world: World, new: dict[Ref, str]) -> list[str]:
        lines = ["body = response.json()"]
        if isinstance(value, list):
            ids = ", ".join(f"{self.expression(ref, new)}.id" for ref in value)
            lines.append(f'assert [item["id"] for item in body] == [{ids}]')
            return lines
        return lines + self.record_json("body", value, world, new)

    def record_json(self, target: str, ref: Ref, world: World, new: dict[Ref, str]) -> list[str]:
        record = world.deref(ref)
        lines = [f'assert {target}["id"] == {self.expression(ref, new)}.id']
        for item in self.entity(ref.entity).fields:
            key = f"{target}[{py_string(item.json_name)}]"
            value = record.values.get(item.name)
            if item.type.kind == "collection":
                children = world.children(ref, item)
                ids = ", ".join(f"{self.expression(child.ref, new)}.id" for child in children)
                lines.append(f'assert [item["id"] for item in {key}] == [{ids}]')
            elif item.type.kind == "reference":
                if value is None:
                    lines.append(f"assert {key} is None")
                else:
                    other = self.expression(Ref(str(item.type.entity), value), new)
                    lines.append(f"assert {key} == {other}.id")
            else:
                lines.append(expect_json(key, value, self.clock, value == REF_NOW))
        return lines

    # --- whole tests ---------------------------------------------------------------------------

    def lines(
        self, request: Request | None = None, whole: set[Ref] | None = None, keep_ids: bool = False
    ) -> list[str]:
        """`keep_ids`: save the path records' ids before the request (they may be gone)."""
        request = request or Request()
        outcome = self.case.outcome
        arrange = self.arrange()
        moving = self.moving()
        capture = self.capture(moving)
        if keep_ids:
            capture += [f"{self.names[p]}_id = {self.names[p]}.id" for p in self.case.params]
        act = self.act(request)
        if outcome.ok:
            asserts = self.success(outcome, moving, whole)
        else:
            asserts = self.failure(outcome, moving)
        return self.assemble(arrange + capture, act, asserts)

    def refused(self, status: int, message: str | None, request: Request) -> list[str]:
        """The case's world, and a request the app refuses before any step runs."""
        arrange = self.arrange()
        moving = self.moving()
        capture = self.capture(moving)
        act = self.act(request)
        failed = Outcome(status, message, ("refused",), self.case.world)
        return self.assemble(arrange + capture, act, self.failure(failed, moving))

    def assemble(self, *blocks: list[str]) -> list[str]:
        out: list[str] = []
        for block in [self.clock.preamble(), *blocks]:
            if block:
                if out:
                    out.append("")
                out += block
        return out


def message_source(message: str, refs: list[Ref], names: dict[Ref, str]) -> str:
    """A message as Python: an f-string when it names records by their ids."""
    pieces: list[tuple[str, bool]] = []
    for index, part in enumerate(message.split(REF_TOKEN)):
        if index % 2 == 1:
            pieces.append((names[refs[int(part)]] + ".id", True))
        elif part:
            pieces.append((part, False))
    return fstring_source(pieces)


def attribute(item: Field) -> str:
    """The model attribute holding a field: a reference's column is `<name>_id`."""
    return item.json_name if item.type.kind == "reference" else item.name


def short(value: Any) -> str:
    """A value for a comment: dates and times relative to the clock, as the test reads."""
    if isinstance(value, datetime):
        hours = (value - REF_NOW).total_seconds() / 3600
        return "now" if hours == 0 else f"now {'+' if hours > 0 else '-'} {abs(hours):g}h"
    if isinstance(value, date):
        days = (value - REF_TODAY).days
        return "today" if days == 0 else f"today {'+' if days > 0 else '-'} {abs(days)}d"
    if isinstance(value, str):
        return py_string(value)
    return str(value)
