"""Values on either side of a field constraint: one the field accepts (at the bound where
there is one) and one it refuses (one step beyond)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from specloom.codegen.testgen import regex
from specloom.codegen.testgen.pysrc import Raw
from specloom.codegen.testgen.values import (
    REF_NOW,
    REF_TODAY,
    email_limit,
    fits,
    quantize,
    quantum,
    sample,
    step,
)
from specloom.ir.domain import Bound, Field


@dataclass
class Probe:
    accepted: Any
    rejected: Any  # None: no value breaks it
    words: str  # what the test checks, for its name
    context: dict[str, Any]  # values of other fields the probe needs


def text_of_length(field: Field, length: int) -> str | None:
    """A valid text of exactly `length` characters for the field, or None."""
    if length < 0:
        return None
    if field.pattern:
        return regex.example(field.pattern, 0, length, length)
    kind = field.type.kind
    if kind == "email":
        tail = "@example.com"
        return "a" * (length - len(tail)) + tail if length > len(tail) else None
    if kind == "url":
        head = "https://example.com/"
        return head + "a" * (length - len(head)) if length >= len(head) else None
    return "x" * length


def length_probe(field: Field, suffix: str) -> Probe | None:
    if suffix == "min_length" and field.min_length is not None:
        bound = field.min_length
        accepted, rejected = text_of_length(field, bound), text_of_length(field, bound - 1)
        words = f"accepts {bound} characters and refuses {bound - 1}"
    elif suffix == "max_length" and email_limit(field) is not None:
        bound = int(email_limit(field) or 0)
        accepted, rejected = text_of_length(field, bound), text_of_length(field, bound + 1)
        words = f"accepts {bound} characters and refuses {bound + 1}"
    else:
        return None
    if accepted is None or not fits(field, accepted):
        return None
    if rejected is not None and (field.pattern or field.type.kind in ("email", "url")):
        rejected = rejected if not fits(field, rejected) else None
    return Probe(accepted, rejected, words, {})


def pattern_probe(field: Field) -> Probe | None:
    if not field.pattern:
        return None
    accepted = regex.example(field.pattern, 1, field.min_length, email_limit(field))
    if accepted is None:
        return None
    rejected = regex.refused(field.pattern, field.min_length, email_limit(field))
    return Probe(accepted, rejected, "accepts a match and refuses a mismatch", {})


def _clock_value(field: Field, clock: str) -> Any:
    if field.type.kind == "date":
        return REF_TODAY
    return REF_NOW if clock == "now" else datetime.combine(REF_TODAY, datetime.min.time())


def bound_probe(field: Field, bound: Bound, record: dict[str, Any]) -> Probe | None:
    """At the bound (or one step inside a strict one) and one step beyond."""
    unit = step(field)
    context: dict[str, Any] = {}
    if bound.value is not None:
        limit = quantize(field, bound.value.python())
        words = f"{bound.op} {bound.value.text}"
    elif bound.field is not None:
        limit = record.get(bound.field)
        if limit is None:
            return None
        context[bound.field] = limit
        words = f"{bound.op} {bound.field}"
    elif bound.clock is not None:
        # the clock moves on between the test and the request: a day either side
        limit = _clock_value(field, bound.clock)
        unit = timedelta(days=1)
        words = f"{bound.op} {bound.clock}"
        if field.type.kind == "datetime" or bound.op in (">", "<"):
            inside = limit + unit if bound.op in (">", ">=") else limit - unit
            outside = limit - unit if bound.op in (">", ">=") else limit + unit
            return Probe(inside, outside, _bound_words(words), context)
    else:
        return None
    if isinstance(limit, (date, datetime)) and bound.clock is None:
        unit = timedelta(days=1) if field.type.kind == "date" else timedelta(seconds=1)
    if bound.op == ">=":
        accepted, rejected = limit, limit - unit
    elif bound.op == ">":
        accepted, rejected = limit + unit, limit
    elif bound.op == "<=":
        accepted, rejected = limit, limit + unit
    else:
        accepted, rejected = limit - unit, limit
    return Probe(quantize(field, accepted), quantize(field, rejected), _bound_words(words), context)


def _bound_words(words: str) -> str:
    names = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}
    op, _, rest = words.partition(" ")
    return f"accepts values {names.get(op, op)} {rest} and refuses the next".replace("_", " ")


def type_probe(entity: str, field: Field, record: dict[str, Any]) -> Probe | None:
    kind = field.type.kind
    base = sample(entity, field, 0, record)
    if kind == "decimal":
        scale = field.type.scale or 0
        too_fine = Decimal(base) + quantum(field) / 10 if scale >= 0 else None
        rejected = Raw(str(too_fine)) if too_fine is not None else None
        return Probe(base, rejected, f"accepts {scale} decimal places and refuses more", {})
    if kind == "enum":
        values = field.type.values
        accepted = values[-1]
        bogus = "NOT_" + "_".join(values)[:40]
        return Probe(accepted, Raw(bogus), "accepts a state and refuses another word", {})
    bad = {"email": "not-an-email", "url": "not a url", "uuid": "not-a-uuid", "date": "not-a-date"}
    if kind in bad:
        return Probe(base, Raw(bad[kind]), f"accepts a {kind} and refuses other text", {})
    return None


_NOT_OF_TYPE = {
    "integer": "not a number",
    "decimal": "not a number",
    "boolean": "maybe",
    "date": "not-a-date",
    "datetime": "not-a-datetime",
    "uuid": "not-a-uuid",
    "email": "not-an-email",
    "url": "not a url",
    "enum": "NOT_A_STATE",
}


def refused_input(field: Field, explicit: bool) -> Any:
    """A value a request schema refuses for an input (None when it takes any text):
    one of the wrong type, else one beyond a bound, a length or a pattern."""
    kind = field.type.kind
    if kind in _NOT_OF_TYPE:
        text = _NOT_OF_TYPE[kind]
        if kind == "enum":
            text = "NOT_" + "_".join(field.type.values)[:40]
        return Raw(text)
    if explicit:
        return None
    for bound in field.bounds:
        if bound.value is not None:
            probe = bound_probe(field, bound, {})
            if probe is not None and probe.rejected is not None:
                return probe.rejected
    for suffix in ("min_length", "max_length"):
        probe = length_probe(field, suffix)
        if probe is not None and probe.rejected is not None:
            return probe.rejected
    probe = pattern_probe(field)
    return probe.rejected if probe is not None else None
