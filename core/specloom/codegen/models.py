"""Emitter of the SQLAlchemy models: one module per entity (`app/models/<entity>.py`)."""

from __future__ import annotations

from specloom.codegen.fieldtypes import column_type, is_nullable, python_type
from specloom.codegen.pycode import Imports, docstring, module_text, py_field_value, py_string
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field
from specloom.plan import naming
from specloom.spec.names import snake


def table_name(entity: str) -> str:
    return snake(entity)


def render_model(ir: ApplicationIR, entity: Entity, requirement_ids: list[str]) -> str:
    imports = Imports()
    imports.add("sqlalchemy.orm", "Mapped", "mapped_column")
    imports.add("app.database", "Base")
    lines = [f"class {entity.name}(Base):"]
    summary = entity.description or f"A {entity.name} record"
    lines.append(
        docstring(f"{summary}, stored in table {table_name(entity.name)}", requirement_ids)
    )
    lines.append(f"    __tablename__ = {py_string(table_name(entity.name))}")
    together = _unique_together(entity, imports)
    if together:
        lines.append(f"    __table_args__ = ({together},)")
    lines.append("")
    lines.append("    id: Mapped[int] = mapped_column(primary_key=True)")
    for field in entity.fields:
        if field.type.kind == "reference":
            lines += _reference(ir, entity, field, imports)
        elif field.type.kind == "collection":
            lines += _collection(ir, entity, field, imports)
        else:
            lines.append(_column(entity, field, imports))
    module = naming.model_module(entity.name)
    return module_text(f"The {entity.name} model.", imports, ["\n".join(lines)], own_module=module)


def _unique_together(entity: Entity, imports: Imports) -> str:
    groups: list[list[str]] = []
    for item in entity.unique_together:
        groups.append([_column_name(entity, name) for name in item.fields])
    for field in entity.fields:
        if field.unique_with:
            groups.append(
                [_column_name(entity, field.name)]
                + [_column_name(entity, name) for name in field.unique_with]
            )
    if not groups:
        return ""
    imports.add("sqlalchemy", "UniqueConstraint")
    return ", ".join(
        "UniqueConstraint(" + ", ".join(py_string(name) for name in group) + ")" for group in groups
    )


def _column_name(entity: Entity, name: str) -> str:
    field = entity.field(name)
    return field.json_name if field is not None else name


def _column(entity: Entity, field: Field, imports: Imports) -> str:
    annotation = python_type(field.type.kind, imports)
    nullable = is_nullable(field)
    options = [column_type(field, imports)]
    if field.unique:
        options.append("unique=True")
    default = field.default
    if default is not None and default.kind == "literal" and default.value is not None:
        options.append(f"default={py_field_value(default.value, field.type.kind, imports)}")
    elif (default is not None and default.kind == "now") or (
        field.set_on_create and field.type.kind == "datetime"
    ):
        imports.add("app.database", "utcnow")
        options.append("default=utcnow")
    elif (default is not None and default.kind == "today") or (
        field.set_on_create and field.type.kind == "date"
    ):
        imports.add("app.database", "today")
        options.append("default=today")
    elif default is not None and default.kind == "field" and default.field:
        imports.add("app.database", "copy_of")
        options.append(f"default=copy_of({py_string(_column_name(entity, default.field))})")
    if field.set_on_update:
        clock = "today" if field.type.kind == "date" else "utcnow"
        imports.add("app.database", clock)
        options.append(f"onupdate={clock}")
    if nullable:
        annotation += " | None"
    return f"    {field.name}: Mapped[{annotation}] = mapped_column({', '.join(options)})"


def _reference(ir: ApplicationIR, entity: Entity, field: Field, imports: Imports) -> list[str]:
    target = str(field.type.entity)
    imports.add("sqlalchemy", "ForeignKey")
    imports.add("sqlalchemy.orm", "relationship")
    if target != entity.name:
        imports.add_for_typing(naming.model_module(target), target)
    optional = " | None" if is_nullable(field) else ""
    column = field.json_name
    options = [f"foreign_keys=[{column}]"]
    if target == entity.name:
        options += ["remote_side=[id]", "post_update=True"]
    partner = _collection_through(ir, target, entity.name, field.name)
    if partner is not None:
        options.append(f"back_populates={py_string(partner)}")
    on_delete = ', ondelete="CASCADE"' if partner is not None else ""
    return [
        f"    {column}: Mapped[int{optional}] = mapped_column(",
        f"        ForeignKey({py_string(table_name(target) + '.id')}{on_delete}), index=True",
        "    )",
        f"    {field.name}: Mapped[{target}{optional}] = relationship({', '.join(options)})",
    ]


def _collection(ir: ApplicationIR, entity: Entity, field: Field, imports: Imports) -> list[str]:
    child = str(field.type.entity)
    via = field.type.via or ""
    imports.add("sqlalchemy.orm", "relationship")
    if child != entity.name:
        imports.add_for_typing(naming.model_module(child), child)
    child_entity = ir.domain.entity(child)
    reference = child_entity.field(via) if child_entity else None
    column = reference.json_name if reference else f"{via}_id"
    return [
        f"    {field.name}: Mapped[list[{child}]] = relationship(",
        f"        foreign_keys={py_string(f'{child}.{column}')},",
        f"        back_populates={py_string(via)},",
        '        cascade="all, delete-orphan",',
        f"        order_by={py_string(f'{child}.id')},",
        "    )",
    ]


def _collection_through(ir: ApplicationIR, parent: str, child: str, via: str) -> str | None:
    """The collection of `parent` made of the `child` records whose `via` points at it."""
    entity = ir.domain.entity(parent)
    if entity is None:
        return None
    for field in entity.fields:
        if field.type.kind == "collection" and field.type.entity == child and field.type.via == via:
            return field.name
    return None


def render_models_package(ir: ApplicationIR) -> str:
    """`app/models/__init__.py`: imports every model so SQLAlchemy knows every table."""
    imports = Imports()
    names = [entity.name for entity in ir.domain.entities]
    for name in names:
        imports.add(naming.model_module(name), name)
    exported = ", ".join(py_string(name) for name in names)
    return module_text(
        "Every model of the application, imported so that SQLAlchemy knows each table.",
        imports,
        [f"__all__ = [{exported}]"],
    )
