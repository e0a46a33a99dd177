"""Many records at once: the children a cardinality rule counts (`at most 50 OrderLine`),
added to a world and written as one loop whose values follow the loop's number."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from specloom.codegen.testgen.arrange import Arrangement
from specloom.codegen.testgen.pysrc import Clock, py_string, py_value
from specloom.codegen.testgen.slots import Names
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import CardinalityRule, LiteralExpr
from specloom.spec.names import snake


def add_children(
    ir: ApplicationIR,
    world: World,
    rule: CardinalityRule,
    owner: Ref,
    count: int,
    names: Names,
) -> tuple[list[tuple[str, Ref]], list[list[Ref]]]:
    """`count` new children of `owner` that the rule counts, each with the records its
    required references need: the first child and the records it needs (named; the
    others share them where they may), then the records of each other child."""
    fixed: dict[str, Any] = {rule.via: owner}
    for item in rule.filters:
        if item.op == "=" and isinstance(item.value, LiteralExpr):
            fixed[item.field] = item.value.value.python()
    arrangement = Arrangement(ir, names=names, world=world, factories=False)
    iterations: list[list[Ref]] = []
    for _ in range(count):
        start = len(arrangement.order)
        arrangement.add(rule.entity, dict(fixed))
        iterations.append([ref for _, ref in arrangement.order[start:]])
    if not iterations:
        return [], []
    first = arrangement.order[: len(iterations[0])]
    shapes = {tuple(ref.entity for ref in records) for records in iterations[1:]}
    if len(shapes) > 1:
        raise ValueError("the children of a big group need records of different kinds")
    return first, iterations[1:]


def _number_expression(values: list[Any]) -> str | None:
    """`number + 3` when the values count up one by one from 3."""
    first = values[0]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    if any(v != first + i for i, v in enumerate(values)):
        return None
    return "number" if first == 0 else f"number + {first}"


def _text_expression(values: list[str]) -> str | None:
    """An f-string with the loop's number in it, if the values differ only by a counter."""
    first = values[0]
    for run in reversed(list(re.finditer(r"\d+", first))):
        prefix, suffix = first[: run.start()], first[run.end() :]
        start = int(run.group())
        for width in (0, len(run.group())):
            numbers = [format(start + i, f"0{width}d") for i in range(len(values))]
            if all(v == prefix + n + suffix for v, n in zip(values, numbers, strict=True)):
                counter = "number" if start == 0 else f"number + {start}"
                spec = f":0{width}d" if width > 1 else ""
                escaped = [part.replace("{", "{{").replace("}", "}}") for part in (prefix, suffix)]
                return "f" + py_string(f"{escaped[0]}{{{counter}{spec}}}{escaped[1]}")
    return None


def value_expression(values: list[Any], clock: Clock) -> str:
    """The Python of the values a field takes across the loop (the same, or counting)."""
    if all(v == values[0] and type(v) is type(values[0]) for v in values):
        return py_value(values[0], clock)
    counted = _number_expression(values)
    if counted is not None:
        return counted
    if all(isinstance(v, str) for v in values):
        text = _text_expression(values)
        if text is not None:
            return text
    if all(isinstance(v, UUID) for v in values):
        text = _text_expression([str(v) for v in values])
        if text is not None:
            clock.module.need("uuid", "UUID")
            return f"UUID({text})"
    if all(isinstance(v, (date, datetime)) for v in values) and len(values) > 1:
        step = values[1] - values[0]
        if all(values[i] == values[0] + step * i for i in range(len(values))):
            clock.module.need("datetime", "timedelta")
            days = step.days
            if days and step.seconds == 0:
                return f"{py_value(values[0], clock)} + timedelta(days={days}) * number"
    if all(isinstance(v, Decimal) for v in values):
        decimals = [v - values[0] for v in values]
        if all(d == i for i, d in enumerate(decimals)):
            return f"{py_value(values[0], clock)} + number"
    items = ", ".join(py_value(v, clock) for v in values)
    return f"({items})[number]"


def bulk_lines(
    ir: ApplicationIR,
    clock: Clock,
    world: World,
    iterations: list[list[Ref]],
    names: dict[Ref, str],
) -> list[str]:
    """A loop adding one child (and its own records) per number, flushed each time so ids
    follow the order of the loop."""
    if not iterations:
        return []
    shape = [ref.entity for ref in iterations[0]]
    local = [f"each_{snake(entity)}" for entity in shape]
    lines = [f"for number in range({len(iterations)}):"]
    for position, entity_name in enumerate(shape):
        entity = ir.domain.entity(entity_name)
        assert entity is not None
        model = clock.module.model(entity_name)
        arguments: list[str] = []
        for item in entity.fields:
            if not item.is_stored:
                continue
            values = [
                world.deref(records[position]).values.get(item.name) for records in iterations
            ]
            if all(v is None for v in values):
                continue
            if item.type.kind == "reference":
                ids = [int(v) for v in values if v is not None]
                if len(ids) != len(values):
                    continue
                targets = [Ref(str(item.type.entity), v) for v in ids]
                inner = [
                    records.index(t) if t in records else -1
                    for records, t in zip(iterations, targets, strict=True)
                ]
                if inner[0] >= 0 and all(i == inner[0] for i in inner):
                    arguments.append(f"{item.name}={local[inner[0]]}")
                elif all(t == targets[0] for t in targets) and targets[0] in names:
                    arguments.append(f"{item.name}={names[targets[0]]}")
                continue
            arguments.append(f"{item.name}={value_expression(values, clock)}")
        lines.append(f"    {local[position]} = {model}({', '.join(arguments)})")
    lines.append(f"    db.add_all([{', '.join(local)}])")
    lines.append("    db.flush()")
    lines.append("db.commit()")
    return lines
