"""Phase 2 for entities and endpoints: types, constraints, and how the API exposes them."""

from __future__ import annotations

import re
from decimal import Decimal

from specloom.analysis.scope import Assigned
from specloom.ir.application import ApplicationIR
from specloom.ir.common import Value
from specloom.ir.domain import (
    NUMERIC_KINDS,
    ORDERED_KINDS,
    TEMPORAL_KINDS,
    TEXTUAL_KINDS,
    Entity,
    Field,
)
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.names import did_you_mean

_LITERAL_FITS: dict[str, frozenset[str]] = {
    "integer": frozenset({"integer"}),
    "decimal": frozenset({"integer", "decimal"}),
    "boolean": frozenset({"boolean"}),
    "enum": frozenset({"enum"}),
}


def check_entities(ir: ApplicationIR, sink: DiagnosticSink, assigned: Assigned) -> None:
    for entity in ir.domain.entities:
        for field in entity.fields:
            if field.name == "id":
                sink.add(
                    "SL213",
                    "every record gets an 'id' of its own: remove this field or rename it",
                    field.range,
                )
            check_field(entity, field, sink, (entity.name, field.name) in assigned.fields)
            check_reachable_states(entity, field, sink, assigned)
        for together in entity.unique_together:
            for name in together.fields:
                if entity.field(name) is None:
                    sink.add(
                        "SL215",
                        f"{entity.name} has no field '{name}' to be unique with"
                        f"{did_you_mean(name, [f.name for f in entity.fields])}",
                        together.range,
                    )


def check_field(entity: Entity, field: Field, sink: DiagnosticSink, flow_sets: bool) -> None:
    # The field's values, read from its __dict__: every attribute read on a pydantic model
    # goes through a slow hook, and this runs for every field of the spec.
    values = field.__dict__
    kind = values["type"].kind
    where = values["range"]
    label = f"{entity.name}.{values['name']}"
    required, default = values["required"], values["default"]
    set_on_create, set_on_update = values["set_on_create"], values["set_on_update"]
    min_length, max_length = values["min_length"], values["max_length"]
    if required and values["optional"]:
        sink.add("SL207", f"{label} is both required and optional: keep one", where)
    unset = default is None and not set_on_create and not flow_sets
    if values["read_only"] and required and unset:
        sink.add(
            "SL207",
            f"{label} is required but read-only, so no client can send it and nothing sets it: "
            "drop 'required', give it a default, or set it in a flow",
            where,
        )
    if required and default is not None:
        sink.add(
            "SL207",
            f"{label} is required, so its default is never used: drop one of them",
            default.range,
            severity="warning",
        )
    if (min_length is not None or max_length is not None or values["pattern"]) and (
        kind not in TEXTUAL_KINDS
    ):
        sink.add(
            "SL206",
            f"{label} is {field.type.describe()}: lengths and patterns apply to text fields only",
            where,
        )
    if min_length is not None and max_length is not None and min_length > max_length:
        sink.add(
            "SL207",
            f"{label} must be at least {min_length} and at most {max_length} "
            "characters long, so no value fits: lower the min length or raise the max length",
            where,
        )
    if kind == "collection" and (values["unique"] or required or default is not None):
        sink.add(
            "SL206",
            f"{label} is a collection: it takes no 'required', 'unique' or default",
            where,
        )
    if (set_on_create or set_on_update) and kind not in TEMPORAL_KINDS:
        sink.add(
            "SL206",
            f"'set on create/update' records the time, so {label} must be a date or datetime, "
            f"not {field.type.describe()}",
            where,
        )
    for name in values["unique_with"]:
        if entity.field(name) is None:
            sink.add(
                "SL215",
                f"{entity.name} has no field '{name}' to be unique with"
                f"{did_you_mean(name, [f.name for f in entity.fields])}",
                where,
            )
    check_bounds(entity, field, sink)
    check_default(entity, field, sink)


def check_bounds(entity: Entity, field: Field, sink: DiagnosticSink) -> None:
    bounds = field.bounds
    if not bounds:
        return
    label = f"{entity.name}.{field.name}"
    kind = field.type.kind
    low: Decimal | None = None
    high: Decimal | None = None
    for bound in bounds:
        if kind not in ORDERED_KINDS:
            sink.add(
                "SL206",
                f"{label} is {field.type.describe()}, which has no order: bounds apply to "
                "numbers, dates and datetimes",
                bound.range,
            )
            return
        if bound.field is not None:
            other = entity.field(bound.field)
            if other is None:
                sink.add(
                    "SL215",
                    f"{entity.name} has no field '{bound.field}' to compare {field.name} with"
                    f"{did_you_mean(bound.field, [f.name for f in entity.fields])}",
                    bound.range,
                )
            elif (other.type.kind in NUMERIC_KINDS) != (kind in NUMERIC_KINDS) or (
                other.type.kind not in ORDERED_KINDS
            ):
                sink.add(
                    "SL206",
                    f"{label} ({field.type.describe()}) cannot be compared with "
                    f"{bound.field} ({other.type.describe()})",
                    bound.range,
                )
            continue
        if bound.clock is not None:
            if kind not in TEMPORAL_KINDS:
                sink.add(
                    "SL206",
                    f"{label} is {field.type.describe()}: only a date or datetime compares "
                    f"with '{bound.clock}'",
                    bound.range,
                )
                return
            continue
        if bound.value is None:
            continue
        if kind in TEMPORAL_KINDS:
            sink.add(
                "SL206",
                f"{label} is a {kind}: compare it with another field or the clock, as in "
                "'after starts_at' or 'after now', not with a number",
                bound.range,
            )
            return
        number = Decimal(bound.value.text)
        if kind == "integer" and bound.value.kind == "decimal":
            sink.add(
                "SL206",
                f"{label} is an integer: bound it by a whole number, not {bound.value.text}",
                bound.range,
            )
        if bound.op in (">", ">="):
            low = number if low is None else max(low, number)
        else:
            high = number if high is None else min(high, number)
    if low is not None and high is not None:
        numeric = [b for b in field.bounds if b.value is not None]
        strict = any(b.op in (">", "<") for b in numeric)
        if low > high or (low == high and strict):
            written = " and ".join(f"{b.op} {b.value.text}" for b in numeric if b.value)
            sink.add(
                "SL207",
                f"{label} has bounds no value satisfies ({written}): relax one of them",
                field.range,
            )


def literal_fits(field: Field, value: Value) -> bool:
    kind = field.type.kind
    if kind in _LITERAL_FITS:
        return value.kind in _LITERAL_FITS[kind]
    if kind in TEXTUAL_KINDS or kind == "uuid":
        return value.kind == "string"
    return False


def violates(field: Field, value: Value) -> str | None:
    """Why a literal default breaks the field's own constraints, if it does."""
    if value.kind in ("integer", "decimal"):
        number = Decimal(value.text)
        for bound in field.bounds:
            if bound.value is None or bound.value.kind not in ("integer", "decimal"):
                continue
            limit = Decimal(bound.value.text)
            ok = {
                ">": number > limit,
                ">=": number >= limit,
                "<": number < limit,
                "<=": number <= limit,
            }[bound.op]
            if not ok:
                return f"it is not {bound.op} {bound.value.text}"
    if value.kind == "string":
        if field.max_length is not None and len(value.text) > field.max_length:
            return f"it is longer than {field.max_length} characters"
        if field.min_length is not None and len(value.text) < field.min_length:
            return f"it is shorter than {field.min_length} characters"
        if field.pattern:
            try:
                if not re.fullmatch(field.pattern, value.text):
                    return "it does not match the pattern"
            except re.error:
                return None
    return None


def check_default(entity: Entity, field: Field, sink: DiagnosticSink) -> None:
    default = field.default
    if default is None:
        return
    label = f"{entity.name}.{field.name}"
    kind = field.type.kind
    if default.kind in ("now", "today"):
        if kind not in TEMPORAL_KINDS:
            sink.add(
                "SL206",
                f"'{default.kind}' is a time; {label} is {field.type.describe()}",
                default.range,
            )
        return
    if kind == "enum" and default.kind == "field":
        written = default.field or ""
        sink.add(
            "SL205",
            f"the default {written} is not a state of {label}"
            f"{did_you_mean(written.upper(), field.type.values)}; states are written in "
            f"capitals: {', '.join(field.type.values)}",
            default.range,
        )
        return
    if default.kind == "field":
        other = entity.field(default.field or "")
        if other is None:
            sink.add(
                "SL215",
                f"{entity.name} has no field '{default.field}' to take the default from"
                f"{did_you_mean(default.field or '', [f.name for f in entity.fields])}; "
                "write a text default in quotes",
                default.range,
            )
        elif other.type.kind != kind and not (
            other.type.kind in NUMERIC_KINDS and kind in NUMERIC_KINDS
        ):
            sink.add(
                "SL206",
                f"{label} ({field.type.describe()}) cannot default to {other.name} "
                f"({other.type.describe()})",
                default.range,
            )
        return
    value = default.value
    if value is None:
        return
    if kind == "enum":
        if value.kind == "string" and value.text in field.type.values:
            # a quoted state, default "GOLD", is the state GOLD
            default.value = Value(kind="enum", text=value.text)
        elif value.kind != "enum" or value.text not in field.type.values:
            sink.add(
                "SL205",
                f"the default {value.text} is not a state of {label}"
                f"{did_you_mean(value.text, field.type.values)}; its states are: "
                f"{', '.join(field.type.values)}",
                default.range,
            )
        return
    if not literal_fits(field, value):
        sink.add(
            "SL206",
            f"the default {value} does not fit {label}, which is {field.type.describe()}: "
            f"write a default of that type{_example_of(field)}",
            default.range,
        )
        return
    reason = violates(field, value)
    if reason is not None:
        sink.add(
            "SL207",
            f"the default {value} breaks {label}'s own constraints ({reason}): change the "
            "default or the constraint",
            default.range,
        )


_EXAMPLES = {
    "integer": "10",
    "decimal": "0.00",
    "boolean": "false",
    "string": '"text"',
    "text": '"text"',
    "email": '"someone@example.com"',
    "url": '"https://example.com"',
    "uuid": "a quoted UUID",
}


def _example_of(field: Field) -> str:
    example = _EXAMPLES.get(field.type.kind)
    return f", such as {example}" if example else ""


def check_reachable_states(
    entity: Entity, field: Field, sink: DiagnosticSink, assigned: Assigned
) -> None:
    """A read-only enum only takes its default and the states flows set."""
    if not field.read_only:
        return
    if field.type.kind == "enum":
        default = field.default.value.text if field.default and field.default.value else None
        for state in field.type.values:
            if state != default and (entity.name, field.name, state) not in assigned.states:
                sink.add(
                    "SL209",
                    f"no flow sets {entity.name}.{field.name} to {state} and clients cannot "
                    f"(it is read-only), so {state} is never reached: add a flow step "
                    f"'Set {field.name.split('.')[-1]} to {state}' or remove the state",
                    field.type.range,
                )
        return
    never_set = (
        field.default is None
        and not field.set_on_create
        and not field.set_on_update
        and field.type.kind != "collection"
        and (entity.name, field.name) not in assigned.fields
    )
    if never_set:
        sink.add(
            "SL217",
            f"{entity.name}.{field.name} is read-only and nothing sets it: give it a default, "
            "'set on create', or a flow step that sets it",
            field.range,
        )
