"""Phase 2 for endpoints: duplicates, the fields they filter, order and update by,
actions without a flow, and entities no endpoint or flow reaches."""

from __future__ import annotations

from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import CreateStep, walk_steps
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.names import plural, snake


def check_endpoints(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    seen: dict[tuple[str, str], Endpoint] = {}
    for endpoint in ir.api.endpoints:
        key = (endpoint.method, _shape(endpoint.path))
        if key in seen:
            first = seen[key]
            sink.add(
                "SL304",
                f"{endpoint.method} {endpoint.path} is already declared by {first.id} (line "
                f"{first.range.start.line + 1}): remove one",
                endpoint.range,
            )
        else:
            seen[key] = endpoint
        entity = ir.domain.entity(endpoint.entity)
        if entity is None:
            continue
        for name in endpoint.updatable:
            field = entity.field(name)
            if field is not None and field.read_only and endpoint.flow is None:
                sink.add(
                    "SL410",
                    f"{entity.name}.{name} is read-only: a client cannot update it; "
                    "set it in a flow instead",
                    endpoint.range,
                )
        if endpoint.kind == "action" and endpoint.flow is None:
            sink.add(
                "SL306",
                f"{endpoint.method} {endpoint.path} is an action: describe what it does in a "
                f"flow headed '### {endpoint.id}. {endpoint.summary or 'Name'}' under Flows",
                endpoint.range,
            )


def _shape(path: str) -> str:
    """`/books/{id}` and `/books/{book_id}` are the same route."""
    if "{" not in path:
        return path  # no parameter: the path is its own shape
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


def check_reachable_entities(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    reached = {endpoint.entity for endpoint in ir.api.endpoints}
    for entity in ir.domain.entities:
        for field in entity.fields:
            if field.type.kind == "collection" and entity.name in reached and field.type.entity:
                reached.add(field.type.entity)

    for flow in ir.behaviour.flows:
        for step in walk_steps(flow.steps):
            if isinstance(step, CreateStep):
                reached.add(step.entity)
    if not ir.api.endpoints:
        return
    for entity in ir.domain.entities:
        if entity.name not in reached:
            sink.add(
                "SL216",
                f"no endpoint reads or writes {entity.name} and no flow creates one: add an "
                f"endpoint such as 'CRUD /{plural(snake(entity.name)).replace('_', '-')}', "
                "or remove it",
                entity.range,
            )
