"""Whether a world is one the app could hold: every field within its constraints (the
clock bounds aside: those hold when a client sends a value), references that exist,
unique values, and every rule."""

from __future__ import annotations

from specloom.codegen.testgen.evaluate import Undefined
from specloom.codegen.testgen.rulecheck import all_hold, unique_groups
from specloom.codegen.testgen.values import fits, is_never_null
from specloom.codegen.testgen.world import World


def world_problem(world: World) -> str | None:
    for entity in world.ir.domain.entities:
        records = world.all(entity.name)
        stored = [f for f in entity.fields if f.is_stored]
        for record in records:
            for item in stored:
                value = record.values.get(item.name)
                if value is None:
                    if is_never_null(item):
                        return f"{entity.name}.{item.name} is null"
                    continue
                if item.type.kind == "reference":
                    if world.get(str(item.type.entity), value) is None:
                        return f"{entity.name}.{item.name} points at nothing"
                    continue
                if not fits(item, value, record.values):
                    return f"{entity.name}.{item.name} = {value!r} breaks its constraints"
        for group in unique_groups(entity):
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
