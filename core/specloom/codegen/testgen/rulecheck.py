"""The rules of a spec, checked over a world (the oracle's view of `app.rules.commit`).

A comparison rule holds for each record of its entity (a null operand holds); a
no-overlap rule keeps the half-open ranges [start, end) of records sharing its key
apart; a cardinality rule caps the owner's matching children.
"""

from __future__ import annotations

from typing import Any, cast

from specloom.codegen import messages
from specloom.codegen.testgen.evaluate import Evaluator, Undefined, compare
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY, comparable
from specloom.codegen.testgen.world import Record, Ref, World
from specloom.ir.behaviour import CardinalityRule, CompareRule, NoOverlapRule, Rule


class RecordEnv(dict[str, Any]):
    """A record's fields by name, `self` and `id`: the names a rule sees. A field's value
    is read the first time the rule names it (a collection walks the world)."""

    def __init__(self, world: World, record: Record) -> None:
        super().__init__(id=record.id)
        self.world = world
        self.record = record
        self.fields = world.schema(record.entity).by_name
        if "self" not in self.fields:
            self["self"] = record.ref

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self.fields

    def __missing__(self, name: str) -> Any:
        if name not in self.fields:
            raise KeyError(name)
        probe = Evaluator(self.world, {}, REF_NOW, REF_TODAY)
        value = self[name] = probe.field_of(self.record, name, self.record.ref)
        return value


def record_env(world: World, record: Record) -> dict[str, Any]:
    """A record's fields by name, `self` and `id`: the names a rule sees."""
    return RecordEnv(world, record)


def compare_holds(rule: CompareRule, world: World, record: Record) -> bool:
    evaluator = Evaluator(world, record_env(world, record), REF_NOW, REF_TODAY)
    left = evaluator.value(rule.left)
    right = evaluator.value(rule.right)
    if left is None or right is None:
        return True
    return compare(rule.op, left, right)


def _matching(
    rule: NoOverlapRule | CardinalityRule, world: World, records: list[Record]
) -> list[Record]:
    evaluator = Evaluator(world, {}, REF_NOW, REF_TODAY)
    kept = evaluator.filtered([r.ref for r in records], rule.filters)
    return [world.deref(ref) for ref in kept]


def overlap_holds(
    rule: NoOverlapRule, world: World, record: Record, candidates: list[Record] | None = None
) -> bool:
    """`candidates`: the records the rule's filters keep, when the caller knows them."""
    if candidates is None:
        candidates = _matching(rule, world, world.all(rule.entity))
    if record.ref not in {r.ref for r in candidates}:
        return True
    key = [record.values.get(name) for name in rule.key]
    start, end = record.values.get(rule.start), record.values.get(rule.end)
    if None in key or start is None or end is None:
        return True
    for other in candidates:
        if other.id == record.id or [other.values.get(name) for name in rule.key] != key:
            continue
        other_start, other_end = other.values.get(rule.start), other.values.get(rule.end)
        if other_start is None or other_end is None:
            continue
        a, b = comparable(start, other_end)
        c, d = comparable(other_start, end)
        if a < b and c < d:
            return False
    return True


def cardinality_holds(rule: CardinalityRule, world: World, owner_id: int | None) -> bool:
    if owner_id is None:
        return True
    children = [r for r in world.all(rule.entity) if r.values.get(rule.via) == owner_id]
    return len(_matching(rule, world, children)) <= rule.maximum


def holds_for(rule: Rule, world: World, record: Record) -> bool:
    """The rule holds as far as this record is concerned (raises Undefined)."""
    body = rule.body
    if record.entity != body.entity:
        return True  # every kind of rule is about the records of one entity
    kind = type(body)
    if kind is CompareRule:
        return compare_holds(cast(CompareRule, body), world, record)
    if kind is NoOverlapRule:
        return overlap_holds(cast(NoOverlapRule, body), world, record)
    counted = cast(CardinalityRule, body)
    if not _matching(counted, world, [record]):
        return True  # only a child the rule counts can make its owner's count grow
    return cardinality_holds(counted, world, record.values.get(counted.via))


def broken(rules: list[Rule], world: World, written: list[Ref]) -> list[Rule]:
    """The rules broken by the written records, each once, in spec order."""
    found: list[Rule] = []
    for rule in rules:
        body = rule.body
        entity = body.entity
        candidates: list[Record] | None = None  # of a no-overlap rule, found once
        for ref in written:
            if ref.entity != entity:
                continue  # the rule holds as far as another entity's record is concerned
            record = world.get(ref.entity, ref.id)
            if record is None:
                continue
            try:
                if type(body) is NoOverlapRule:
                    if candidates is None:
                        candidates = _matching(body, world, world.all(entity))
                    ok = overlap_holds(body, world, record, candidates)
                else:
                    ok = holds_for(rule, world, record)
            except Undefined:
                ok = False
            if not ok:
                found.append(rule)
                break
    return found


def broken_bounds(world: World, written: list[Ref], status: int) -> list[tuple[str, int, str]]:
    """The bounds between two fields of a written record that it breaks, as the app's
    `check_bounds` refuses them on every write: (check id, status, message)."""
    found: list[tuple[str, int, str]] = []
    for ref in written:
        record = world.get(ref.entity, ref.id)
        if record is None:
            continue
        entity = world.entity(ref.entity)
        for item in entity.fields:
            for bound in item.bounds:
                other = entity.field(bound.field) if bound.field else None
                if other is None:
                    continue
                value, limit = record.values.get(item.name), record.values.get(other.name)
                if value is None or limit is None or compare(bound.op, value, limit):
                    continue
                temporal = item.type.kind in ("date", "datetime")
                message = messages.bound_message(item.name, bound.op, other.name, temporal)
                check = f"bounds:{entity.name}.{item.name}"
                if check not in [f[0] for f in found]:
                    found.append((check, status, message))
    return found


def all_hold(rules: list[Rule], world: World) -> bool:
    return not broken(rules, world, world.refs())
