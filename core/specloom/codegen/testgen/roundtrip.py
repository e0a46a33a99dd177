"""The test named after a CRUD line (`F1. CRUD /projects`): one record created, read,
listed, changed and deleted through the API, as a client would."""

from __future__ import annotations

from typing import Any

from specloom.codegen.testgen.emit import CaseWriter, Request
from specloom.codegen.testgen.entitycases import EntityCases
from specloom.codegen.testgen.interpreter import Interpreter
from specloom.codegen.testgen.outcome import Request as Call
from specloom.codegen.testgen.pseudo import plain_flow, updatable_fields
from specloom.codegen.testgen.pysrc import Module, expect_json, json_value, py_string
from specloom.codegen.testgen.values import sample
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.api import Endpoint


def one(endpoint: Endpoint) -> str:
    """The path of one record, its id taken from `record_id`."""
    last = endpoint.parameters[-1].name
    return 'f"' + endpoint.path.replace("{" + last + "}", "{record_id}") + '"'


def change(
    cases: EntityCases, update: Endpoint, world: World, created: Ref
) -> tuple[str, Any] | None:
    """A field the update endpoint takes, and a new value the oracle accepts for it."""
    flow = plain_flow(cases.ir, update)
    if flow is None:
        return None
    interpreter = Interpreter(cases.ir, flow, update, plain=True)
    record = world.deref(created).values
    for item in updatable_fields(cases.entity, update):
        if item.type.kind == "reference" or item.unique or item.unique_with:
            continue
        for k in range(1, 4):
            value = sample(cases.entity.name, item, k, record)
            if value is None or value == record.get(item.name):
                continue
            outcome = interpreter.run(world, Call([created.id], {item.json_name: value}))
            if outcome.ok:
                return item.json_name, value
    return None


def round_trip(cases: EntityCases, module: Module, group: list[Endpoint]) -> list[str] | None:
    by_kind = {e.kind: e for e in group}
    create = by_kind.get("create")
    if create is None or create.parameters:
        return None
    _, case = cases.create_case(create)
    outcome = case.outcome
    if not outcome.ok or not isinstance(outcome.body, Ref):
        return None
    writer = CaseWriter(cases.ir, module, case)
    clock = writer.clock
    ok = "assert response.status_code == {}, response.text"
    lines = [*writer.arrange(), "", *writer.act(Request()), ok.format(201)]
    lines += ["created = response.json()", 'record_id = created["id"]']
    if "get" in by_kind:
        get = one(by_kind["get"])
        lines += ["", f"response = client.get({get})", ok.format(200)]
        lines.append("assert response.json() == created")
    if "list" in by_kind:
        lines += ["", f"response = client.get({py_string(by_kind['list'].path)})", ok.format(200)]
        lines.append('assert [item["id"] for item in response.json()["items"]] == [record_id]')
    update = by_kind.get("update")
    changed = change(cases, update, outcome.world, outcome.body) if update else None
    if update is not None and changed is not None:
        key, value = changed
        payload = f"{{{py_string(key)}: {json_value(value, clock)}}}"
        lines += ["", f"response = client.{update.method.lower()}({one(update)}, json={payload})"]
        lines += [ok.format(200), expect_json(f"response.json()[{py_string(key)}]", value, clock)]
    if "delete" in by_kind:
        lines += ["", f"response = client.delete({one(by_kind['delete'])})", ok.format(204)]
        if "get" in by_kind:
            status = cases.ir.validation.error_policy.status_for("not_found")
            lines.append(f"assert client.get({one(by_kind['get'])}).status_code == {status}")
    preamble = clock.preamble()
    return [*preamble, *([""] if preamble else []), *lines]
