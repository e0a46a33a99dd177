"""Whether a world is one the app could hold: every field within its constraints (the
clock bounds aside: those hold when a client sends a value), references that exist,
unique values, and every rule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from specloom.codegen.testgen.evaluate import Undefined
from specloom.codegen.testgen.memo import per_ir
from specloom.codegen.testgen.rulecheck import all_hold
from specloom.codegen.testgen.values import fits, is_never_null
from specloom.codegen.testgen.world import World
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Field


def world_problem(world: World) -> str | None:
    fitting = _fitting(world.ir)
    for entity in world.ir.domain.entities:
        table = world.records.get(entity.name)
        if not table:
            continue  # no record: nothing to break
        schema = world.schemas[entity.name]
        records = list(table.values())
        for record in records:
            values = record.values
            for item in schema.stored:
                value = values.get(item.name)
                if value is None:
                    if is_never_null(item):
                        return f"{entity.name}.{item.name} is null"
                    continue
                if item.type.kind == "reference":
                    if world.get(str(item.type.entity), value) is None:
                        return f"{entity.name}.{item.name} points at nothing"
                    continue
                if not fitting.fits(item, value, values):
                    return f"{entity.name}.{item.name} = {value!r} breaks its constraints"
        for group in schema.unique_groups:
            seen: set[tuple[object, ...]] = set()
            for record in records:
                key = tuple(record.values.get(name) for name in group)
                if None in key:
                    continue
                if key in seen:
                    return f"{entity.name} repeats {', '.join(group)}"
                seen.add(key)
    try:
        if not all_hold(world.ir.behaviour.rules, world):
            return "a rule is broken"
    except Undefined as error:
        return str(error)
    return None


# Values whose type and value say everything `fits` reads of them (a Decimal also has
# an exponent, which equality ignores: it is never remembered).
_EXACT = frozenset({str, int, bool, date, datetime})


class _Fitting:
    """`fits` of the IR's own fields, remembered for values of exact types when the
    field's bounds do not read the rest of the record."""

    def __init__(self) -> None:
        self.known: dict[tuple[int, type, Any], bool] = {}
        self.free: dict[int, bool] = {}
        self.fields: list[Field] = []  # keeps every remembered field alive (ids stay unique)

    def fits(self, item: Field, value: Any, record: dict[str, Any]) -> bool:
        kind = type(value)
        free = self.free.get(id(item))
        if free is None:
            free = self.free[id(item)] = all(bound.field is None for bound in item.bounds)
            self.fields.append(item)
        if not free or kind not in _EXACT:
            return fits(item, value, record)
        key = (id(item), kind, value)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = fits(item, value, record)
        return found


@per_ir
def _fitting(ir: ApplicationIR) -> _Fitting:
    return _Fitting()
