"""How each spec type is written in the generated code: Python annotations, column
types and request-schema types."""

from __future__ import annotations

from specloom.codegen.pycode import Imports, py_string
from specloom.ir.domain import Entity, Field, FieldType

_PYTHON: dict[str, tuple[str, str | None]] = {
    "string": ("str", None),
    "text": ("str", None),
    "email": ("str", None),
    "url": ("str", None),
    "enum": ("str", None),
    "integer": ("int", None),
    "decimal": ("Decimal", "decimal"),
    "boolean": ("bool", None),
    "date": ("date", "datetime"),
    "datetime": ("datetime", "datetime"),
    "uuid": ("UUID", "uuid"),
}


def python_type(kind: str, imports: Imports) -> str:
    """The Python type of a stored scalar (`decimal` -> `Decimal`)."""
    name, module = _PYTHON[kind]
    if module is not None:
        imports.add(module, name)
    return name


def is_nullable(field: Field) -> bool:
    """A required field, one with a default or one set on create is never null."""
    return not (field.required or field.default is not None or field.set_on_create)


def column_type(field: Field, imports: Imports) -> str:
    """The SQLAlchemy column type of a stored scalar field."""
    kind = field.type.kind
    if kind in ("string", "email", "url"):
        imports.add("sqlalchemy", "String")
        limit = field.max_length or (320 if kind == "email" else None)
        return f"String({limit})" if limit else "String"
    if kind == "enum":
        imports.add("sqlalchemy", "String")
        return f"String({max(len(value) for value in field.type.values)})"
    if kind == "decimal":
        imports.add("app.database", "DecimalType")
        return f"DecimalType({field.type.precision}, {field.type.scale})"
    simple = {
        "text": "Text",
        "integer": "Integer",
        "boolean": "Boolean",
        "date": "Date",
        "datetime": "DateTime",
        "uuid": "Uuid",
    }[kind]
    imports.add("sqlalchemy", simple)
    return simple


def schema_type(field: Field, imports: Imports) -> str:
    """The type a client sends for a field (before `| None` for optional ones)."""
    kind = field.type.kind
    if kind == "reference":
        return "int"
    return scalar_schema_type(field.type, imports)


def scalar_schema_type(field_type: FieldType, imports: Imports) -> str:
    kind = field_type.kind
    if kind == "email":
        imports.add("pydantic", "EmailStr")
        return "EmailStr"
    if kind == "url":
        imports.add("app.types", "UrlText")
        return "UrlText"
    if kind == "datetime":
        imports.add("app.types", "UtcDateTime")
        return "UtcDateTime"
    if kind == "enum":
        imports.add("typing", "Literal")
        return f"Literal[{', '.join(py_string(value) for value in field_type.values)}]"
    return python_type(kind, imports)


def stored_fields(entity: Entity) -> list[Field]:
    return [field for field in entity.fields if field.is_stored]


def references(entity: Entity) -> list[Field]:
    return [field for field in entity.fields if field.type.kind == "reference"]


def collections(entity: Entity) -> list[Field]:
    return [field for field in entity.fields if field.type.kind == "collection"]
