"""A flow's inputs: the field each one takes its type and constraints from, and whether
a request body is one FastAPI accepts (422 before any step otherwise)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from specloom.codegen.testgen.values import fits, fits_type
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow, FlowInput
from specloom.ir.domain import Field, FieldType
from specloom.spec.entities import DEFAULT_PRECISION, DEFAULT_SCALE, SCALAR_TYPES


@lru_cache(maxsize=64)
def _typed_field(name: str, kind: str) -> Field:
    if kind == "decimal":
        field_type = FieldType(kind="decimal", precision=DEFAULT_PRECISION, scale=DEFAULT_SCALE)
    else:
        field_type = FieldType.model_validate({"kind": kind})
    return Field(name=name, type=field_type)


def input_field(ir: ApplicationIR, item: FlowInput) -> Field:
    """The field an input is checked against: the entity's field it names, or a field of
    its explicit type, or an integer id for a reference input."""
    if item.explicit_type is not None:
        return _typed_field(item.name, SCALAR_TYPES.get(item.explicit_type.lower(), "string"))
    if item.reference is not None and item.name.endswith("_id"):
        return _typed_field(item.name, "integer")
    entity = ir.domain.entity(item.entity) if item.entity else None
    found = entity.field(item.field) if entity and item.field else None
    if found is None:
        return _typed_field(item.name, "string")
    return found


def is_reference_input(item: FlowInput) -> bool:
    return item.reference is not None and item.name.endswith("_id")


def input_problem(
    ir: ApplicationIR, flow: Flow, body: dict[str, Any], plain: bool = False
) -> tuple[str, str] | None:
    """("invalid", name) for a body FastAPI refuses with 422, ("unclear", name) when
    that is not settled by the spec (a bound against the clock or another input of a
    flow), else None. `plain`: the body of a plain create or update endpoint, whose
    schema checks every bound."""
    values: dict[str, Any] = {}
    by_field: dict[str, str] = {}
    for item in flow.inputs:
        if item.name not in body:
            if not item.optional:
                return ("invalid", item.name)
            continue
        value = body[item.name]
        field = input_field(ir, item)
        if value is None:
            if not item.optional:
                return ("invalid", item.name)
            continue
        if item.explicit_type is not None:
            if not fits_type(field, value) and not _loose_decimal(field, value):
                return ("invalid", item.name)
            continue
        if not fits_type(field, value) or not fits(field, value, None):
            return ("invalid", item.name)
        if not fits(field, value, None, clock=True):
            return ("invalid" if plain else "unclear", item.name)
        if item.explicit_type is None and item.field is not None and not is_reference_input(item):
            values[item.field] = value
            by_field[item.field] = item.name
    for item in flow.inputs:
        if item.explicit_type is not None or item.field not in values or is_reference_input(item):
            continue
        field = input_field(ir, item)
        if any(b.field is not None and b.field in values for b in field.bounds) and not fits(
            field, values[field.name], values
        ):
            return ("invalid" if plain else "unclear", item.name)
    return None


def _loose_decimal(field: Field, value: Any) -> bool:
    """An input typed `decimal` takes any number (no precision is checked on it)."""
    return (
        field.type.kind == "decimal"
        and isinstance(value, (int, Decimal))
        and not isinstance(value, bool)
    )
