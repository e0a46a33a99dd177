"""Emitter of the pydantic schemas: `app/schemas/<entity>.py` holds what a client sends to
create or update a record (`<Entity>Create`, `<Entity>Update`), what it gets back
(`<Entity>Read`) and the list answer (`<Entity>Page`). A plain nested create
(`POST /shelves/{id}/items`) takes `<Entity>CreateIn<Link>` (`ItemCreateInShelf`): the
create schema without the reference the path gives."""

from __future__ import annotations

from specloom.codegen import messages
from specloom.codegen.fieldtypes import is_nullable, scalar_schema_type, schema_type
from specloom.codegen.flowcode import NEGATED
from specloom.codegen.pycode import (
    Imports,
    docstring,
    module_text,
    py_field_value,
    py_string,
    py_value,
)
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Bound, Entity, Field
from specloom.plan import naming

_BOUND_KEYWORDS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


def writable_fields(entity: Entity) -> list[Field]:
    """The fields a client may send on create: stored and not read-only."""
    return [f for f in entity.fields if f.is_stored and not f.read_only]


def updatable_fields(entity: Entity, endpoints: list[Endpoint]) -> list[Field]:
    """What the entity's plain update endpoints let a client change (every writable
    field when an update endpoint names none)."""
    writable = writable_fields(entity)
    named: set[str] = set()
    for endpoint in endpoints:
        if endpoint.kind != "update":
            continue
        if not endpoint.updatable:
            return writable
        named.update(endpoint.updatable)
    return [f for f in writable if f.name in named or f.json_name in named]


def parent_link(ir: ApplicationIR, endpoint: Endpoint) -> Field | None:
    """The child's reference to the parent of a nested path (`/members/{id}/loans`)."""
    if endpoint.parent is None or endpoint.parent_field is None:
        return None
    child = ir.domain.entity(endpoint.entity)
    parent = ir.domain.entity(endpoint.parent)
    if child is None or parent is None:
        return None
    field = child.field(endpoint.parent_field)
    if field is not None and field.type.kind == "reference":
        return field
    collection = parent.field(endpoint.parent_field)
    if collection is not None and collection.type.kind == "collection" and collection.type.via:
        return child.field(collection.type.via)
    return None


def nested_create_schema(entity: str, link: Field) -> str:
    """The body of a plain nested create, named after the reference the path sets:
    `ItemCreateInShelf` (`shelf`), `TransferCreateInFromAccount` (`from_account`)."""
    return f"{entity}CreateIn{naming.pascal(link.name)}"


def nested_create_links(
    ir: ApplicationIR, entity: Entity, endpoints: list[Endpoint]
) -> list[Field]:
    """The references set from the path by the entity's plain nested create endpoints."""
    links: dict[str, Field] = {}
    for endpoint in endpoints:
        if endpoint.kind != "create" or endpoint.entity != entity.name:
            continue
        link = parent_link(ir, endpoint)
        if link is not None and link.is_stored and not link.read_only:
            links.setdefault(link.name, link)
    return list(links.values())


def render_schemas(
    ir: ApplicationIR, entity: Entity, endpoints: list[Endpoint], requirement_ids: list[str]
) -> str:
    imports = Imports()
    imports.add("pydantic", "BaseModel", "ConfigDict")
    blocks = [
        _create(entity, imports, requirement_ids),
        *(
            _nested_create(entity, link, imports, requirement_ids)
            for link in nested_create_links(ir, entity, endpoints)
        ),
        _update(entity, updatable_fields(entity, endpoints), imports),
        _read(ir, entity, imports),
        _page(entity),
    ]
    module = naming.schemas_module(entity.name)
    return module_text(f"The schemas of {entity.name}.", imports, blocks, own_module=module)


def field_line(field: Field, imports: Imports, optional: bool) -> str:
    """`name: type = Field(...)` with the field's constraints as pydantic arguments."""
    annotation = schema_type(field, imports)
    arguments = constraint_arguments(field, imports)
    default = "..."
    if optional:
        annotation += " | None"
        default = "None"
    elif field.default is not None and field.default.kind == "literal" and field.default.value:
        default = py_field_value(field.default.value, field.type.kind, imports)
    elif is_nullable(field) or field.default is not None:
        annotation += " | None"
        default = "None"
    name = field.json_name
    if not arguments:
        return f"    {name}: {annotation}" + ("" if default == "..." else f" = {default}")
    imports.add("pydantic", "Field")
    if default != "...":
        arguments.insert(0, f"default={default}")
    return f"    {name}: {annotation} = Field({', '.join(arguments)})"


def constraint_arguments(field: Field, imports: Imports) -> list[str]:
    arguments: list[str] = []
    if field.min_length is not None:
        arguments.append(f"min_length={field.min_length}")
    if field.max_length is not None:
        arguments.append(f"max_length={field.max_length}")
    if field.pattern is not None:
        arguments.append(f"pattern={py_string(field.pattern)}")
    if field.type.kind == "decimal":
        arguments.append(f"max_digits={field.type.precision}")
        arguments.append(f"decimal_places={field.type.scale}")
    for bound in field.bounds:
        if bound.value is not None:
            value = py_value(bound.value)
            if bound.value.kind == "decimal":
                imports.add("decimal", "Decimal")
            arguments.append(f"{_BOUND_KEYWORDS[bound.op]}={value}")
    return arguments


def _create(entity: Entity, imports: Imports, requirement_ids: list[str]) -> str:
    lines = [f"class {entity.name}Create(BaseModel):"]
    lines.append(
        docstring(
            f"What a client sends to create a {entity.name}; read-only fields are ignored",
            requirement_ids,
        )
    )
    lines.append('    model_config = ConfigDict(extra="ignore")')
    lines.append("")
    fields = writable_fields(entity)
    lines += [field_line(field, imports, optional=False) for field in fields]
    lines += relative_bound_validators(entity, fields, imports, partial=False)
    return "\n".join(lines)


def _nested_create(
    entity: Entity, link: Field, imports: Imports, requirement_ids: list[str]
) -> str:
    """The create schema without `link`: the parent comes from the path, and a
    `<link>_id` the client sends anyway is ignored like any unknown key."""
    own = f"{entity.name}.{link.name}."
    lines = [f"class {nested_create_schema(entity.name, link)}(BaseModel):"]
    lines.append(
        docstring(
            f"What a client sends to create a {entity.name} in the {link.name} of the "
            f"path; a {link.json_name} sent is ignored",
            [req for req in requirement_ids if not req.startswith(own)],
        )
    )
    lines.append('    model_config = ConfigDict(extra="ignore")')
    lines.append("")
    fields = [f for f in writable_fields(entity) if f.name != link.name]
    lines += [field_line(field, imports, optional=False) for field in fields]
    lines += relative_bound_validators(entity, fields, imports, partial=False)
    return "\n".join(lines)


def _update(entity: Entity, fields: list[Field], imports: Imports) -> str:
    lines = [f"class {entity.name}Update(BaseModel):"]
    lines.append(
        docstring(f"The fields of a {entity.name} a client may change; only those sent change")
    )
    lines.append('    model_config = ConfigDict(extra="ignore")')
    if not fields:
        return "\n".join(lines)
    lines.append("")
    lines += [field_line(field, imports, optional=True) for field in fields]
    not_null = [f.json_name for f in fields if not is_nullable(f)]
    if not_null:
        imports.add("pydantic", "field_validator")
        imports.add("typing", "Any")
        names = ", ".join(py_string(name) for name in not_null)
        lines += [
            "",
            f"    @field_validator({names})",
            "    @classmethod",
            "    def not_null(cls, value: Any) -> Any:",
            '        """A field that always has a value cannot be set to null."""',
            "        if value is None:",
            '            raise ValueError("may not be null")',
            "        return value",
        ]
    lines += relative_bound_validators(entity, fields, imports, partial=True)
    return "\n".join(lines)


def relative_bound_validators(
    entity: Entity, fields: list[Field], imports: Imports, partial: bool
) -> list[str]:
    """Bounds against the clock or another field, as model validators."""
    sent = {f.name for f in fields}
    checks: list[str] = []
    for field in fields:
        for bound in field.bounds:
            check = _relative_check(entity, field, bound, sent, imports, partial)
            if check:
                checks += check
    if not checks:
        return []
    imports.add("pydantic", "model_validator")
    imports.add("typing", "Self")
    return [
        "",
        '    @model_validator(mode="after")',
        "    def check_bounds(self) -> Self:",
        '        """Bounds against the clock or another field."""',
        *checks,
        "        return self",
    ]


def _relative_check(
    entity: Entity, field: Field, bound: Bound, sent: set[str], imports: Imports, partial: bool
) -> list[str]:
    if bound.value is not None:
        return []
    if bound.clock is not None:
        clock = "today()" if bound.clock == "today" else "utcnow()"
        imports.add("app.database", "today" if bound.clock == "today" else "utcnow")
        other = clock
        other_name: str = bound.clock
    elif bound.field is not None and bound.field in sent:
        other_field = entity.field(bound.field)
        if other_field is None:
            return []
        other = f"self.{other_field.json_name}"
        other_name = bound.field
    else:
        return []
    op = NEGATED[bound.op]  # the broken case
    name = f"self.{field.json_name}"
    present = [name] + ([other] if other.startswith("self.") else [])
    guard = " and ".join(f"{item} is not None" for item in present)
    temporal = field.type.kind in ("date", "datetime")
    message = py_string(messages.bound_message(field.name, bound.op, other_name, temporal))
    return [
        f"        if {guard} and {name} {op} {other}:",
        f"            raise ValueError({message})",
    ]


def _read(ir: ApplicationIR, entity: Entity, imports: Imports) -> str:
    lines = [f"class {entity.name}Read(BaseModel):"]
    lines.append(docstring(f"A {entity.name} as the API answers it"))
    lines.append("    model_config = ConfigDict(from_attributes=True)")
    lines.append("")
    lines.append("    id: int")
    for field in entity.fields:
        if field.type.kind == "collection":
            child = str(field.type.entity)
            if child != entity.name:
                imports.add(naming.schemas_module(child), f"{child}Read")
            lines.append(f"    {field.name}: list[{child}Read]")
            continue
        annotation = (
            "int" if field.type.kind == "reference" else scalar_schema_type(field.type, imports)
        )
        if field.type.kind in ("email", "url", "enum"):
            annotation = "str"
        if is_nullable(field):
            annotation += " | None"
        lines.append(f"    {field.json_name}: {annotation}")
    return "\n".join(lines)


def _page(entity: Entity) -> str:
    return "\n".join(
        [
            f"class {entity.name}Page(BaseModel):",
            docstring(f"One page of {entity.name} records"),
            f"    items: list[{entity.name}Read]",
            "    total: int",
            "    page: int",
            "    page_size: int",
        ]
    )
