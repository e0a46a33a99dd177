"""Emitter of the routers: `app/routers/<entity>.py` holds one APIRouter per resource
entity and one handler per endpoint. A handler of a flow calls its service; the others
are written here from the endpoint's kind (create, list, get, update, delete)."""

from __future__ import annotations

from specloom.codegen.fieldtypes import is_nullable, scalar_schema_type
from specloom.codegen.flowcode import GenerationError
from specloom.codegen.pycode import Imports, Part, docstring, module_text, py_string
from specloom.codegen.schemas import (
    nested_create_schema,
    parent_link,
    updatable_fields,
    writable_fields,
)
from specloom.codegen.services import describe_service
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field
from specloom.plan import naming
from specloom.plan.index import PlanIndex
from specloom.spec.names import snake


def render_router(index: PlanIndex, entity: str, handlers: list[tuple[Endpoint, list[str]]]) -> str:
    """The router module of `entity`, with a handler per (endpoint, requirement IDs)."""
    return assemble_router(entity, [render_handler_part(index, e, ids) for e, ids in handlers])


def render_handler_part(index: PlanIndex, endpoint: Endpoint, requirement_ids: list[str]) -> Part:
    """One handler and the imports it needs: what a router module is assembled from."""
    imports = Imports()
    return render_handler(index, endpoint, requirement_ids, imports), imports


def assemble_router(entity: str, parts: list[Part]) -> str:
    imports = Imports()
    imports.add("fastapi", "APIRouter")
    for _, needed in parts:
        imports.merge(needed)
    blocks = [f"router = APIRouter(tags=[{py_string(snake(entity))}])"]
    blocks += [code for code, _ in parts]
    return module_text(
        f"The endpoints of {entity} records.",
        imports,
        blocks,
        own_module=naming.router_module(entity),
    )


def render_handler(
    index: PlanIndex, endpoint: Endpoint, requirement_ids: list[str], imports: Imports
) -> str:
    imports.add("app.database", "SessionDep")
    flow = index.flow_of.get(endpoint.id)
    if flow is not None:
        return _flow_handler(index.ir, endpoint, flow.id, requirement_ids, imports)
    writer = {
        "create": _create,
        "list": _list,
        "get": _get,
        "update": _update,
        "delete": _delete,
        "delete_children": _delete_children,
    }[endpoint.kind]
    entity = index.entities[endpoint.entity]
    return writer(index, endpoint, entity, requirement_ids, imports)


def _decorator(endpoint: Endpoint, status: int, response: str | None) -> str:
    method = endpoint.method.lower()
    options = [py_string(endpoint.path), f"status_code={status}"]
    if response is not None:
        options.append(f"response_model={response}")
    if endpoint.summary:
        options.append(f"summary={py_string(endpoint.summary)}")
    return f"@router.{method}({', '.join(options)})"


def _head(
    endpoint: Endpoint,
    status: int,
    response: str | None,
    parameters: list[str],
    returns: str,
    requirement_ids: list[str],
) -> list[str]:
    name = naming.handler_name(endpoint)
    what = endpoint.summary or f"{endpoint.kind} {endpoint.entity}"
    return [
        _decorator(endpoint, status, response),
        f"def {name}({', '.join(parameters)}) -> {returns}:",
        docstring(f"{endpoint.method} {endpoint.path}: {what}", requirement_ids).rstrip("\n"),
    ]


def _path_parameters(endpoint: Endpoint) -> list[str]:
    return [
        f"{_param(p.name)}: Annotated[int, Path(alias={py_string(p.name)})]"
        for p in endpoint.parameters
    ]


def _record_key(endpoint: Endpoint) -> str:
    """The handler parameter holding the id of the record the endpoint acts on."""
    return _param(endpoint.parameters[-1].name) if endpoint.parameters else "record_id"


def _param(name: str) -> str:
    return "record_id" if name == "id" else snake(name)


def _use_path(imports: Imports, endpoint: Endpoint) -> None:
    if endpoint.parameters:
        imports.add("typing", "Annotated")
        imports.add("fastapi", "Path")


def _flow_handler(
    ir: ApplicationIR,
    endpoint: Endpoint,
    flow_id: str,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    flow = ir.behaviour.flow(flow_id)
    assert flow is not None
    service = describe_service(ir, flow, endpoint)
    imports.add(service.module, service.function)
    _use_path(imports, endpoint)
    parameters = _path_parameters(endpoint)
    arguments = ["session", *(_param(name) for name in service.parameters)]
    if service.input_class is not None:
        imports.add(service.module, service.input_class)
        parameters.append(f"data: {service.input_class}")
        arguments.append("data")
    parameters.append("session: SessionDep")
    call = f"{service.function}({', '.join(arguments)})"
    entity = service.reply.entity
    if entity is None:
        imports.add("fastapi", "Response")
        lines = _head(endpoint, service.reply.status, None, parameters, "Response", requirement_ids)
        lines += [f"    {call}", f"    return Response(status_code={service.reply.status})"]
        return "\n".join(lines)
    imports.add(naming.model_module(entity), entity)
    imports.add(naming.schemas_module(entity), f"{entity}Read")
    read, returns = f"{entity}Read", entity
    if service.reply.many:
        read, returns = f"list[{read}]", f"list[{entity}]"
    lines = _head(endpoint, service.reply.status, read, parameters, returns, requirement_ids)
    lines.append(f"    return {call}")
    return "\n".join(lines)


def _models(imports: Imports, entity: str, *schemas: str) -> None:
    imports.add(naming.model_module(entity), entity)
    imports.add(naming.repository_module(entity), f"{entity}Repository")
    for schema in schemas:
        imports.add(naming.schemas_module(entity), f"{entity}{schema}")


def _commit(imports: Imports) -> str:
    imports.add("app.rules", "commit")
    return "    commit(session)"


def _parent_link(index: PlanIndex, endpoint: Endpoint) -> Field | None:
    """The child's reference to the parent of a nested path (`/members/{id}/loans`)."""
    return parent_link(index.ir, endpoint)


def _parent_key(endpoint: Endpoint) -> str:
    """The handler parameter holding the parent's id: the last one of a nested
    collection's path (`/orders/{id}/lines`)."""
    return _record_key(endpoint)


def _create(
    index: PlanIndex,
    endpoint: Endpoint,
    entity: Entity,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    name = entity.name
    link = _parent_link(index, endpoint) if endpoint.parent is not None else None
    writable = writable_fields(entity)
    schema = f"{name}Create"
    if link is not None and link in writable:
        # the parent comes from the path: the body has no `<link>_id`
        schema = nested_create_schema(name, link)
        imports.add(naming.schemas_module(name), schema)
        _models(imports, name, "Read")
    else:
        _models(imports, name, "Create", "Read")
    _use_path(imports, endpoint)
    parameters = [*_path_parameters(endpoint), f"data: {schema}", "session: SessionDep"]
    lines = _head(endpoint, 201, f"{name}Read", parameters, name, requirement_ids)
    references = [
        f for f in writable if f.type.kind == "reference" and (link is None or f.name != link.name)
    ]
    excluded = [f.json_name for f in references]
    values = "data.model_dump()"
    if excluded:
        names = ", ".join(py_string(item) for item in excluded)
        values = f"data.model_dump(exclude={{{names}}})"
    lines.append(f"    record = {name}(**{values})")
    if link is not None and endpoint.parent is not None:
        # the path's record first: an unknown parent answers 404 before the body's ids
        parent = endpoint.parent
        _models(imports, parent)
        lines.append(
            f"    record.{link.name} = {parent}Repository(session).get({_parent_key(endpoint)})"
        )
    lines += _reference_lines(entity, references, imports, "record", only_sent=False)
    lines += [f"    {name}Repository(session).add(record)", _commit(imports), "    return record"]
    return "\n".join(lines)


def _reference_lines(
    entity: Entity, references: list[Field], imports: Imports, record: str, only_sent: bool
) -> list[str]:
    """Load each referenced record by its id: 404 for an unknown one."""
    lines = []
    for field in references:
        target = str(field.type.entity)
        imports.add(naming.repository_module(target), f"{target}Repository")
        load = f"{target}Repository(session).get(data.{field.json_name})"
        if only_sent and not is_nullable(field):
            # the update schema refuses a null for it: a sent id is never None here
            lines += [
                f"    if data.{field.json_name} is not None:",
                f"        {record}.{field.name} = {load}",
            ]
        elif only_sent:
            lines += [
                f'    if "{field.json_name}" in data.model_fields_set:',
                f"        {record}.{field.name} = (",
                f"            {load} if data.{field.json_name} is not None else None",
                "        )",
            ]
        elif is_nullable(field):
            lines += [
                f"    if data.{field.json_name} is not None:",
                f"        {record}.{field.name} = {load}",
            ]
        else:
            lines.append(f"    {record}.{field.name} = {load}")
    return lines


def _list(
    index: PlanIndex,
    endpoint: Endpoint,
    entity: Entity,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    name = entity.name
    _models(imports, name, "Read", "Page")
    _use_path(imports, endpoint)
    imports.add("fastapi", "Query")
    imports.add("typing", "Annotated", "Any")
    parameters = [*_path_parameters(endpoint), "session: SessionDep"]
    filters: list[tuple[Field, str]] = []
    for filter_name in endpoint.filters:
        field = entity.field(filter_name) or entity.field(filter_name.removesuffix("_id"))
        if field is None or field.type.kind == "collection":
            continue
        kind = "int" if field.type.kind == "reference" else scalar_schema_type(field.type, imports)
        if field.type.kind in ("email", "url"):
            kind = "str"
        filters.append((field, kind))
        parameters.append(f"{field.json_name}: {kind} | None = None")
    size = endpoint.page_size
    parameters += [
        "page: Annotated[int, Query(ge=1)] = 1",
        f"page_size: Annotated[int, Query(ge=1, le={max(100, size)})] = {size}",
    ]
    lines = _head(endpoint, 200, f"{name}Page", parameters, f"{name}Page", requirement_ids)
    lines.append("    conditions: list[Any] = []")
    link = _parent_link(index, endpoint)
    if link is not None and endpoint.parent is not None:
        parent = endpoint.parent
        _models(imports, parent)
        key = _parent_key(endpoint)
        lines.append(f"    {parent}Repository(session).get({key})")
        lines.append(f"    conditions.append({name}.{link.json_name} == {key})")
    for field, _ in filters:
        column = field.json_name
        lines += [
            f"    if {column} is not None:",
            f"        conditions.append({name}.{column} == {column})",
        ]
    order = ", ".join(
        f"{name}.{_column(entity, o.field)}{'.desc()' if o.descending else ''}"
        for o in endpoint.ordering
    )
    lines += [
        f"    items, total = {name}Repository(session).page(",
        f"        conditions, [{order}], page, page_size",
        "    )",
        f"    return {name}Page(",
        f"        items=[{name}Read.model_validate(item) for item in items],",
        "        total=total,",
        "        page=page,",
        "        page_size=page_size,",
        "    )",
    ]
    return "\n".join(lines)


def _column(entity: Entity, name: str) -> str:
    field = entity.field(name)
    return field.json_name if field else name


def _get(
    index: PlanIndex,
    endpoint: Endpoint,
    entity: Entity,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    name = entity.name
    _models(imports, name, "Read")
    _use_path(imports, endpoint)
    parameters = [*_path_parameters(endpoint), "session: SessionDep"]
    lines = _head(endpoint, 200, f"{name}Read", parameters, name, requirement_ids)
    key = _record_key(endpoint)
    lines.append(f"    return {name}Repository(session).get({key})")
    return "\n".join(lines)


def _update(
    index: PlanIndex,
    endpoint: Endpoint,
    entity: Entity,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    name = entity.name
    _models(imports, name, "Update", "Read")
    _use_path(imports, endpoint)
    parameters = [*_path_parameters(endpoint), f"data: {name}Update", "session: SessionDep"]
    lines = _head(endpoint, 200, f"{name}Read", parameters, name, requirement_ids)
    key = _record_key(endpoint)
    fields = updatable_fields(entity, index.endpoints_of.get(name, []))
    references = [f for f in fields if f.type.kind == "reference"]
    lines.append(f"    record = {name}Repository(session).get({key})")
    scalars = [f for f in fields if f.type.kind != "reference"]
    if scalars:
        excluded = ", ".join(py_string(f.json_name) for f in references)
        dump = "data.model_dump(exclude_unset=True" + (
            f", exclude={{{excluded}}})" if references else ")"
        )
        lines += [
            f"    for field, value in {dump}.items():",
            "        setattr(record, field, value)",
        ]
    lines += _reference_lines(entity, references, imports, "record", only_sent=True)
    lines += [f"    {name}Repository(session).ensure_unique(record)"]
    lines += [_commit(imports), "    return record"]
    return "\n".join(lines)


def _delete(
    index: PlanIndex,
    endpoint: Endpoint,
    entity: Entity,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    name = entity.name
    _models(imports, name)
    _use_path(imports, endpoint)
    imports.add("fastapi", "Response")
    parameters = [*_path_parameters(endpoint), "session: SessionDep"]
    lines = _head(endpoint, 204, None, parameters, "Response", requirement_ids)
    key = _record_key(endpoint)
    lines += [
        f"    repository = {name}Repository(session)",
        f"    repository.delete(repository.get({key}))",
        _commit(imports),
        "    return Response(status_code=204)",
    ]
    return "\n".join(lines)


def _delete_children(
    index: PlanIndex,
    endpoint: Endpoint,
    entity: Entity,
    requirement_ids: list[str],
    imports: Imports,
) -> str:
    """Delete the children found by their reference to the parent, whether or not the
    parent holds a collection of them, as a delete of each would: 409 while another
    record still refers to one of them."""
    name = entity.name
    parent = endpoint.parent or endpoint.target or name
    link = _parent_link(index, endpoint)
    if link is None:
        raise GenerationError(f"{endpoint.id}: {name} has no reference to {parent}")
    _models(imports, name)
    _models(imports, parent)
    _use_path(imports, endpoint)
    imports.add("fastapi", "Response")
    parameters = [*_path_parameters(endpoint), "session: SessionDep"]
    lines = _head(endpoint, 204, None, parameters, "Response", requirement_ids)
    key = _parent_key(endpoint)
    lines += [
        f"    {parent}Repository(session).get({key})",
        f"    repository = {name}Repository(session)",
        f"    repository.delete_all(repository.where({name}.{link.json_name} == {key}))",
        _commit(imports),
        "    return Response(status_code=204)",
    ]
    return "\n".join(lines)
