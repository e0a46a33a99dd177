"""Records to arrange ("slots"), their Python names, and the values they hold when a
scenario asks for nothing else."""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from specloom.codegen.testgen.memo import per_ir
from specloom.codegen.testgen.values import ARRANGED_PAST, REF_TODAY, quantize, sample
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    CardinalityRule,
    CompareRule,
    LiteralExpr,
    NoOverlapRule,
    PathExpr,
)
from specloom.ir.domain import Bound, Entity, Field

BoundOp = Literal[">", ">=", "<", "<="]
RESERVED = {"client", "db", "response", "body", "now", "today", "select", "pytest", "app"}
RESERVED |= {"datetime", "timedelta", "date", "Decimal", "UUID", "TestClient", "Session"}
RESERVED |= {"caught", "payload", "item", "items", "page", "record", "records", "stored"}
RESERVED |= {"first", "second", "created", "other", "count", "rows", "found", "data"}


@dataclass
class Slot:
    """One record a scenario may arrange. Slots of one family (the children of the
    same kind of group, their references) share the knobs that vary them."""

    name: str
    entity: str
    role: str  # path, input, child, ref
    depth: int
    family: str
    links: dict[str, str] = field(default_factory=dict)  # reference field -> slot
    group: str | None = None
    index: int = 0
    parent: str | None = None
    k: int = 0  # how many slots of the entity come before it: varies unique values


class Names:
    """Python variable names for slots: readable, unique, never a name the test uses."""

    def __init__(self) -> None:
        self.taken: set[str] = set(RESERVED)

    def take(self, preferred: str, numbered: bool = False) -> str:
        base = preferred if not keyword.iskeyword(preferred) else preferred + "_"
        if not numbered and base not in self.taken:
            self.taken.add(base)
            return base
        number = 1
        while f"{base}_{number}" in self.taken:
            number += 1
        self.taken.add(f"{base}_{number}")
        return f"{base}_{number}"


@per_ir
def counted_links(ir: ApplicationIR) -> frozenset[tuple[str, str]]:
    """(entity, reference) pairs records may not share a referenced record through
    freely: a rule counts or groups records by it, or it is part of a unique group."""
    found: set[tuple[str, str]] = set()
    for rule in ir.behaviour.rules:
        body = rule.body
        if isinstance(body, CardinalityRule):
            found.add((body.entity, body.via))
        elif isinstance(body, NoOverlapRule):
            found.update((body.entity, name) for name in body.key)
    for entity in ir.domain.entities:
        for item in entity.fields:
            if item.unique or item.unique_with:
                found.update((entity.name, name) for name in [item.name, *item.unique_with])
        for together in entity.unique_together:
            found.update((entity.name, name) for name in together.fields)
    return frozenset(found)


def rule_bounds(ir: ApplicationIR, entity: Entity) -> dict[str, Field]:
    """The entity's fields with the comparison rules between two of its own fields (or a
    field and a number) added as bounds, so samples keep those rules too. Worked out
    once per entity of the IR; the dict is shared: read it, never change it."""
    known = _bounded(ir)
    found = known.get(entity.name)
    if found is not None and found[0] is entity:
        return found[1]
    fields = _rule_bounds(ir, entity)
    if ir.domain.entity(entity.name) is entity:
        known[entity.name] = (entity, fields)
    return fields


@per_ir
def _bounded(ir: ApplicationIR) -> dict[str, tuple[Entity, dict[str, Field]]]:
    """rule_bounds of the IR's entities, as they are asked for."""
    return {}


def _rule_bounds(ir: ApplicationIR, entity: Entity) -> dict[str, Field]:
    extra: dict[str, list[Bound]] = {}
    for rule in ir.behaviour.rules:
        body = rule.body
        if not isinstance(body, CompareRule) or body.entity != entity.name:
            continue
        if body.op in ("=", "!="):
            continue
        op = cast(BoundOp, body.op)
        left, right = body.left, body.right
        if not isinstance(left, PathExpr) or len(left.parts) != 1:
            continue
        if isinstance(right, PathExpr) and len(right.parts) == 1 and entity.field(right.parts[0]):
            extra.setdefault(left.parts[0], []).append(Bound(op=op, field=right.parts[0]))
        elif isinstance(right, LiteralExpr) and right.value.kind in ("integer", "decimal"):
            extra.setdefault(left.parts[0], []).append(Bound(op=op, value=right.value))
    fields: dict[str, Field] = {}
    for item in entity.fields:
        if item.name in extra:
            bounds = [*item.bounds, *extra[item.name]]
            fields[item.name] = item.model_copy(update={"bounds": bounds})
        else:
            fields[item.name] = item
    return fields


def field_order(entity: Entity, fields: dict[str, Field]) -> list[Field]:
    """Stored fields, each after the fields its bounds and default refer to (a shared
    list for the fields rule_bounds gives: read it, never change it)."""
    known = _ORDERED.get(id(fields))
    if known is not None and known[0] is entity and known[1] is fields:
        return known[2]
    ordered = _field_order(entity, fields)
    _ORDERED[id(fields)] = (entity, fields, ordered)  # keeps `fields` alive: ids stay unique
    if len(_ORDERED) > ORDERED_KEPT:
        del _ORDERED[next(iter(_ORDERED))]
    return ordered


ORDERED_KEPT = 4096
_ORDERED: dict[int, tuple[Entity, dict[str, Field], list[Field]]] = {}


def _field_order(entity: Entity, fields: dict[str, Field]) -> list[Field]:
    stored = [fields[f.name] for f in entity.fields if f.is_stored]
    placed: list[Field] = []
    names: set[str] = set()

    def place(item: Field, trail: set[str]) -> None:
        if item.name in names or item.name in trail:
            return
        needs = [b.field for b in item.bounds if b.field]
        if item.default is not None and item.default.field:
            needs.append(item.default.field)
        for name in needs:
            other = fields.get(name)
            if other is not None and other.is_stored:
                place(other, trail | {item.name})
        placed.append(item)
        names.add(item.name)

    for item in stored:
        place(item, set())
    return placed


def arranged_value(
    entity: str, item: Field, k: int, record: dict[str, Any], position: int = 0
) -> Any:
    """The value an arranged record holds when nothing asks for another: its default,
    the time it was 'created' (yesterday, a minute after the record arranged before
    it), a sample unless the field is optional (or only set on update), else null."""
    default = item.default
    if default is not None:
        if default.kind == "literal" and default.value is not None:
            return quantize(item, default.value.python())
        if default.kind == "field" and default.field:
            return record.get(default.field)
        return _created(position) if default.kind == "now" else REF_TODAY
    if item.set_on_create:
        return _created(position) if item.type.kind == "datetime" else REF_TODAY
    if item.required or not (item.optional or item.set_on_update):
        return sample(entity, item, k, record)
    return None


_CREATED = [ARRANGED_PAST + timedelta(minutes=position) for position in range(256)]


def _created(position: int) -> datetime:
    """When the record arranged at `position` was created: a minute after the one before."""
    if 0 <= position < len(_CREATED):
        return _CREATED[position]
    return ARRANGED_PAST + timedelta(minutes=position)
