"""Messages the generated application answers with, shared by the code emitters and
the test generator so both say exactly the same thing."""

from __future__ import annotations

import re

from specloom.ir.behaviour import Rule

_ID_PREFIX = re.compile(r"^\s*[A-Za-z][\w.-]*\.\s+")
_STATUS_NOTE = re.compile(r"\s*\((?:\d{3})?[^()]*\)\s*(?=[;.]|$)")


def not_found(entity: str, record_id: object) -> str:
    """`Book 7 not found` (the generated code formats the id at run time)."""
    return f"{entity} {record_id} not found"


def duplicate(entity: str, field: str, value: object) -> str:
    """`Book with isbn 9781234567897 already exists`."""
    return duplicate_group(entity, [(field, value)])


def duplicate_group(entity: str, values: list[tuple[str, object]]) -> str:
    """`Account with owner_id 1 and currency EUR already exists` (unique together)."""
    described = " and ".join(f"{field} {value}" for field, value in values)
    return f"{entity} with {described} already exists"


def still_referenced(entity: str, record_id: object, other: str) -> str:
    return f"{entity} {record_id} is still referenced by {other} records"


def rule_message(rule: Rule) -> str:
    """The rule's own message when the spec gives one, else its sentence:
    `R1. A time entry's ends_at is after its starts_at (422).` ->
    `R1: A time entry's ends_at is after its starts_at`."""
    if rule.message:
        return rule.message
    sentence = _ID_PREFIX.sub("", rule.text, count=1)
    sentence = sentence.split(";", 1)[0]
    sentence = _STATUS_NOTE.sub("", sentence).strip().rstrip(".").strip()
    return f"{rule.id}: {sentence}"


def guard_message(flow_id: str, message: str) -> str:
    """A guard's message, or one naming the flow when the spec gives none."""
    return message or f"{flow_id}: the request is refused"


_TEMPORAL_WORDS = {">": "after", ">=": "on or after", "<": "before", "<=": "on or before"}
_NUMBER_WORDS = {">": "greater than", ">=": "at least", "<": "less than", "<=": "at most"}


def bound_message(field: str, op: str, other: str, temporal: bool) -> str:
    """`ends_at must be after starts_at`, `discount must be at most price`."""
    words = _TEMPORAL_WORDS if temporal else _NUMBER_WORDS
    return f"{field} must be {words[op]} {other}"
