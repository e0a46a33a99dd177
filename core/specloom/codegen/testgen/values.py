"""Values of fields: which ones a field accepts, and deterministic samples of them.

Dates and times are relative to a reference clock (`REF_NOW`, `REF_TODAY`); the
generated tests write them relative to the clock at run time (`now + timedelta(days=1)`),
so a test means the same whatever day it runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from specloom.codegen.testgen import regex
from specloom.ir.domain import Bound, Field
from specloom.spec.names import snake

REF_NOW = datetime(2000, 1, 3, 12, 0, 0)
REF_TODAY = REF_NOW.date()
ARRANGED_PAST = REF_NOW - timedelta(days=1)  # when arranged records were "created"

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/\S*)?$")
DEFAULT_EMAIL_LIMIT = 320

# --- the shape of a field's values ---------------------------------------------------


def quantum(field: Field) -> Decimal:
    return Decimal(1).scaleb(-(field.type.scale or 0))


def quantize(field: Field, value: Any) -> Any:
    """A value as the field stores it: decimals rounded half up to the field's scale."""
    if field.type.kind == "decimal" and isinstance(value, (int, Decimal)) and value is not True:
        return Decimal(value).quantize(quantum(field), rounding=ROUND_HALF_UP)
    return value


def step(field: Field) -> Any:
    """The smallest difference between two values of the field."""
    kind = field.type.kind
    if kind == "decimal":
        return quantum(field)
    if kind == "date":
        return timedelta(days=1)
    if kind == "datetime":
        return timedelta(seconds=1)
    return 1


def literal_bounds(field: Field) -> tuple[Any, Any]:
    """The smallest and largest value the number bounds allow (None: unbounded)."""
    low: Any = None
    high: Any = None
    for bound in field.bounds:
        if bound.value is None:
            continue
        limit = quantize(field, bound.value.python())
        if field.type.kind == "integer" and isinstance(limit, Decimal):
            limit = int(limit.to_integral_value()) if limit == limit.to_integral_value() else limit
        if bound.op == ">":
            limit = limit + step(field)
        elif bound.op == "<":
            limit = limit - step(field)
        if bound.op in (">", ">="):
            low = limit if low is None else max(low, limit)
        else:
            high = limit if high is None else min(high, limit)
    return low, high


def email_limit(field: Field) -> int | None:
    return field.max_length or (DEFAULT_EMAIL_LIMIT if field.type.kind == "email" else None)


def fits_type(field: Field, value: Any) -> bool:
    """The value has the field's type (and, for decimals, its precision and scale)."""
    kind = field.type.kind
    if value is None:
        return True
    if kind in ("string", "text"):
        return isinstance(value, str)
    if kind == "email":
        return isinstance(value, str) and EMAIL.match(value) is not None
    if kind == "url":
        return isinstance(value, str) and URL.match(value) is not None
    if kind == "uuid":
        return isinstance(value, UUID)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "decimal":
        return _fits_decimal(field, value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "enum":
        return isinstance(value, str) and value in field.type.values
    if kind == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind == "datetime":
        return isinstance(value, datetime)
    if kind == "reference":
        return isinstance(value, int) and not isinstance(value, bool)
    return False


def _fits_decimal(field: Field, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return False
    try:
        number = Decimal(value)
    except InvalidOperation:
        return False
    scale = field.type.scale or 0
    precision = field.type.precision or 12
    exponent = number.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and -exponent > scale
        and number != number.quantize(quantum(field))
    ):
        return False
    whole = abs(int(number))
    return len(str(whole)) <= max(precision - scale, 1) or whole == 0


def fits(
    field: Field,
    value: Any,
    record: dict[str, Any] | None = None,
    *,
    clock: bool = False,
    fields: dict[str, Field] | None = None,
) -> bool:
    """The value keeps the field's own constraints: type, lengths, pattern, number
    bounds; bounds against another field when `record` has it; bounds against the
    clock only when `clock` (they are checked when a client sends the value)."""
    if value is None:
        return True
    if not fits_type(field, value):
        return False
    if isinstance(value, str) and field.type.kind in ("string", "text", "email", "url"):
        if field.min_length is not None and len(value) < field.min_length:
            return False
        limit = email_limit(field)
        if limit is not None and len(value) > limit:
            return False
        if field.pattern and re.search(field.pattern, value) is None:
            return False
    for bound in field.bounds:
        other = _bound_operand(bound, record, clock, field)
        if other is None:
            continue
        if not _holds(bound.op, value, other):
            return False
    return True


def _bound_operand(bound: Bound, record: dict[str, Any] | None, clock: bool, field: Field) -> Any:
    if bound.value is not None:
        return quantize(field, bound.value.python())
    if bound.field is not None:
        return None if record is None else record.get(bound.field)
    if bound.clock is not None and clock:
        if field.type.kind == "date":
            return REF_TODAY if bound.clock == "today" else REF_NOW.date()
        return REF_NOW if bound.clock == "now" else datetime.combine(REF_TODAY, datetime.min.time())
    return None


def _holds(op: str, left: Any, right: Any) -> bool:
    left, right = comparable(left, right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """A date meets a datetime at midnight."""
    if isinstance(left, datetime) != isinstance(right, datetime):
        if isinstance(left, date) and not isinstance(left, datetime):
            left = datetime.combine(left, datetime.min.time())
        if isinstance(right, date) and not isinstance(right, datetime):
            right = datetime.combine(right, datetime.min.time())
    return left, right


# --- samples ----------------------------------------------------------------------


def text_sample(entity: str, field: Field, k: int) -> str | None:
    """The k-th text value of a string, text, email or url field (distinct per k)."""
    kind = field.type.kind
    low = field.min_length
    high = email_limit(field)
    if field.pattern:
        return regex.example(field.pattern, k, low, high)
    number = str(k + 1)
    if kind == "email":
        stem = snake(entity) if field.name == "email" else field.name
        text = f"{stem.replace('_', '.')}{number}@example.com"
    elif kind == "url":
        text = f"https://example.com/{field.name.replace('_', '-')}/{number}"
    else:
        text = f"{field.name.replace('_', ' ')} {number}"
    if high is not None and len(text) > high:
        if kind in ("email", "url"):
            return None
        keep = max(high - len(number), 0)
        text = (text[:keep] + number)[-high:] if high >= len(number) else regex.PREFERRED[k % 62]
    if low is not None and len(text) < low:
        text = text[: len(text) - len(number)] + "x" * (low - len(text)) + number
    return text


def sample(entity: str, field: Field, k: int = 0, record: dict[str, Any] | None = None) -> Any:
    """The k-th valid value of a writable scalar field (k varies it where the type can).
    Remembered, but for dates and times (those depend on the record's other fields)."""
    kind = field.type.kind
    if kind in ("date", "datetime"):
        return _sample(entity, field, k, record)
    key = (entity, id(field), k)
    known = _SAMPLES.get(key)
    if known is not None and known[0] is field:
        return known[1]
    value = _sample(entity, field, k, record)
    _SAMPLES[key] = (field, value)  # keeps the field alive: its id is not reused meanwhile
    if len(_SAMPLES) > SAMPLES_KEPT:
        del _SAMPLES[next(iter(_SAMPLES))]
    return value


SAMPLES_KEPT = 65536
_SAMPLES: dict[tuple[str, int, int], tuple[Field, Any]] = {}


def _sample(entity: str, field: Field, k: int, record: dict[str, Any] | None) -> Any:
    kind = field.type.kind
    if kind in ("string", "text", "email", "url"):
        return text_sample(entity, field, k)
    if kind == "uuid":
        return UUID(f"00000000-0000-4000-8000-{k + 1:012d}")
    if kind == "boolean":
        if field.default is not None and field.default.value is not None:
            return field.default.value.python() if k == 0 else not field.default.value.python()
        return k % 2 == 1
    if kind == "enum":
        values = field.type.values
        first = field.default.value.text if field.default and field.default.value else values[0]
        ordered = [first, *(v for v in values if v != first)]
        return ordered[k % len(ordered)]
    if kind in ("integer", "decimal"):
        return _number_sample(field, k)
    if kind == "date":
        return _relative(field, REF_TODAY + timedelta(days=k), timedelta(days=1), record)
    if kind == "datetime":
        base = REF_NOW + timedelta(days=1 + k)
        return _relative(field, base, timedelta(hours=1), record)
    return None


def _number_sample(field: Field, k: int) -> Any:
    low, high = literal_bounds(field)
    preferred: Any = Decimal(10) if field.type.kind == "decimal" else 1
    value = preferred if low is None or preferred >= low else low
    if high is not None and value > high:
        value = high
    value = value + k * (1 if field.type.kind == "integer" else Decimal(1))
    if high is not None and value > high:
        value = high - k * step(field)
    return quantize(field, value)


def _relative(field: Field, base: Any, gap: Any, record: dict[str, Any] | None) -> Any:
    """A date or datetime after the fields it must follow and before those it must precede."""
    value = base
    for bound in field.bounds:
        other = _bound_operand(bound, record, True, field)
        if other is None or _holds(bound.op, value, other):
            continue
        if isinstance(other, datetime) and field.type.kind == "date":
            other = other.date()
        value = other + gap if bound.op in (">", ">=") else other - gap
    return value


def number_candidates(field: Field, literals: list[Any], base: Any) -> list[Any]:
    """Numbers worth trying: the base, small ones, the spec's literals and bounds, each
    with its neighbours, within the field's bounds."""
    unit = step(field)
    seeds: list[Any] = [0, 1, 2, 3, *literals]
    seeds += [b.value.python() for b in field.bounds if b.value is not None]
    values: set[Any] = set()
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, Decimal)):
            continue
        for offset in (-1, 0, 1):
            value = quantize(field, seed + offset * unit) if field.type.kind == "decimal" else seed
            if field.type.kind == "integer":
                if isinstance(seed, Decimal) and seed != seed.to_integral_value():
                    continue
                value = int(seed) + offset
            values.add(value)
    kept = sorted(v for v in values if fits(field, v) and v != base)
    kept.sort(key=lambda v: (abs(v - base), v))
    return [base, *kept]


def temporal_candidates(field: Field, base: Any, literals: list[Any]) -> list[Any]:
    """Dates around today (and the spec's day counts away from the base); times a day or
    two from now, and an hour apart."""
    if field.type.kind == "date":
        options = [REF_TODAY + timedelta(days=days) for days in (-2, -1, 0, 1, 2, 3)]
        for number in literals:
            if isinstance(number, int) and not isinstance(number, bool) and 0 < number <= 400:
                for days in (number - 1, number, number + 1):
                    options.append(base + timedelta(days=days))
    else:
        options = [REF_NOW + timedelta(hours=hours) for hours in (-48, -24, 24, 25, 26, 48, 49)]
    kept = sorted(v for v in options if v != base)
    kept.sort(key=lambda v: (abs(v - base), v))
    return [base, *kept]


def candidates(entity: str, field: Field, literals: list[Any], base: Any) -> list[Any]:
    """Values of one field worth trying in a scenario, the base value first."""
    kind = field.type.kind
    anchor = base if base is not None else sample(entity, field, 0)
    if kind in ("integer", "decimal"):
        found = number_candidates(field, literals, anchor)
    elif kind in ("date", "datetime"):
        found = temporal_candidates(field, anchor, literals)
    elif kind == "boolean":
        found = [anchor, not anchor]
    elif kind == "enum":
        found = [anchor, *(v for v in field.type.values if v != anchor)]
    else:
        texts = [sample(entity, field, k) for k in range(3)]
        found = [anchor, *(t for t in texts if t is not None and t != anchor)]
    found = [v for v in found if v is not None and fits(field, v)]
    if base is None:
        found.insert(0, None)
    elif not is_never_null(field):
        found.append(None)
    return list(dict.fromkeys(found))


def is_never_null(field: Field) -> bool:
    """A required field, one with a default or set on create is never null once stored."""
    return field.required or field.default is not None or field.set_on_create
