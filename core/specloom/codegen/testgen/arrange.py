"""Records arranged through the ORM: built valid (every constraint, unique values, the
rules), and written as model constructors the test adds and commits through `db`."""

from __future__ import annotations

from typing import Any

from specloom.codegen.testgen.factories import factories_of, make
from specloom.codegen.testgen.pysrc import Clock, py_value
from specloom.codegen.testgen.schema import unique_groups
from specloom.codegen.testgen.slots import (
    Names,
    arranged_value,
    counted_links,
    field_order,
    rule_bounds,
)
from specloom.codegen.testgen.validity import world_problem
from specloom.codegen.testgen.values import sample
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field
from specloom.spec.names import snake


def arrangement_lines(
    ir: ApplicationIR, clock: Clock, world: World, order: list[tuple[str, Ref]]
) -> list[str]:
    """`book = Book(...)` for each record, added and flushed in waves (a record after the
    records it refers to, and after the records of its entity arranged before it), so
    the database numbers each entity's records in the order the oracle does; a record a
    factory makes (`member = make_member(db)`) after the records arranged before it are
    flushed; then one commit. A record that refers to itself gets the reference once it
    is stored."""
    names = {ref: name for name, ref in order}
    lines: list[str] = []
    late: list[str] = []
    pending: list[tuple[str, Ref]] = []
    for name, ref in order:
        if ref not in world.tops:
            pending.append((name, ref))
            continue
        lines += _waves(ir, clock, world, pending, names, late)
        pending = []
        lines.append(f"{name} = {clock.module.factory(ref.entity)}(db)")
    lines += _waves(ir, clock, world, pending, names, late)
    if lines and lines[-1] == "db.flush()":
        lines[-1] = "db.commit()"
    elif lines:
        lines.append("db.commit()")
    if late:
        lines += [*late, "db.commit()"]
    return lines


def _waves(
    ir: ApplicationIR,
    clock: Clock,
    world: World,
    order: list[tuple[str, Ref]],
    names: dict[Ref, str],
    late: list[str],
) -> list[str]:
    """Constructors of records, added and flushed wave by wave."""
    waves: dict[Ref, int] = {}
    last: dict[str, int] = {}
    for _, ref in order:
        record = world.deref(ref)
        wave = last.get(ref.entity, 0)
        for item in world.schema(ref.entity).references:
            value = record.values.get(item.name)
            if value is None:
                continue
            target = Ref(str(item.type.entity), value)
            if target != ref and target in waves:
                wave = max(wave, waves[target] + 1)
        waves[ref] = wave
        last[ref.entity] = wave
    lines: list[str] = []
    for number in sorted(set(waves.values())):
        batch = [(name, ref) for name, ref in order if waves[ref] == number]
        for name, ref in batch:
            source, self_links = constructor(ir, clock, world, ref, names)
            lines.append(f"{name} = {source}")
            late += [f"{name}.{link} = {name}" for link in self_links]
        lines.append(f"db.add_all([{', '.join(name for name, _ in batch)}])")
        lines.append("db.flush()")
    return lines


def constructor(
    ir: ApplicationIR,
    clock: Clock,
    world: World,
    ref: Ref,
    names: dict[Ref, str],
    overrides: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    """`Book(title=..., ...)` for a record (its null fields left out; references by the
    names of their records), and the references to itself, set after it is stored.
    `overrides` replaces the source of some keyword arguments (`book_id=999999`)."""
    record = world.deref(ref)
    model = clock.module.model(ref.entity)
    arguments: list[str] = []
    late: list[str] = []
    replaced = dict(overrides or {})
    values = record.values
    for item in world.schema(ref.entity).stored:
        if replaced:
            key = next((k for k in (item.name, item.json_name) if k in replaced), None)
            if key is not None:
                arguments.append(f"{key}={replaced.pop(key)}")
                continue
        value = values.get(item.name)
        if value is None:
            continue
        if item.type.kind == "reference":
            target = Ref(str(item.type.entity), value)
            if target == ref:
                late.append(item.name)
            else:
                arguments.append(f"{item.name}={names[target]}")
            continue
        arguments.append(f"{item.name}={py_value(value, clock)}")
    arguments += [f"{key}={source}" for key, source in replaced.items()]
    return f"{model}({', '.join(arguments)})", late


class Arrangement:
    """Records for a test of an entity's endpoints or constraints."""

    def __init__(
        self,
        ir: ApplicationIR,
        names: Names | None = None,
        world: World | None = None,
        share: bool = True,
        factories: bool = True,
    ) -> None:
        """`share`: a required reference points at a record of its entity already
        arranged (the first), where no rule counts or groups records by it.
        `factories`: a record needed only because another refers to it is made by its
        factory (`make_member(db)`) where the entity has one."""
        self.ir = ir
        self.share = share
        self.factories = factories_of(ir) if factories else None
        self.private: set[Ref] = set()  # records no other record may share
        self.counted = counted_links(ir)
        self.world = world if world is not None else World(ir)
        self.names = names or Names()
        self.order: list[tuple[str, Ref]] = []
        self.loose: dict[Ref, str] = {}
        self._fields: dict[str, dict[str, Field]] = {}

    def entity(self, name: str) -> Entity:
        found = self.ir.domain.entity(name)
        if found is None:
            raise KeyError(name)
        return found

    def fields_of(self, entity: str) -> dict[str, Field]:
        if entity not in self._fields:
            self._fields[entity] = rule_bounds(self.ir, self.entity(entity))
        return self._fields[entity]

    def name_of(self, ref: Ref) -> str:
        for name, known in self.order:
            if known == ref:
                return name
        return self.loose[ref]

    def names_by_ref(self) -> dict[Ref, str]:
        return {**{ref: name for name, ref in self.order}, **self.loose}

    def add(
        self,
        entity: str,
        values: dict[str, Any] | None = None,
        name: str | None = None,
        minimal: bool = False,
        stored: bool = True,
    ) -> Ref:
        """A valid record of `entity`: `values` as given (references as Refs), required
        references to new records, the rest as an arranged record holds them (`minimal`:
        only what a client must give, the app fills the rest). A record not `stored` is
        one the test adds itself (it is not in the arrangement's commit)."""
        given = dict(values or {})
        k = len(self.world.all(entity))
        record: dict[str, Any] = {}
        variable = self.names.take(name or snake(entity), numbered=name is None and k > 0)
        linked: set[Ref] = set()
        for item in field_order(self.entity(entity), self.fields_of(entity)):
            if item.type.kind == "reference":
                target = given.get(item.name)
                if target is None and item.name not in given and item.required:
                    target = self.shared(entity, item, linked)
                if target is None and item.name not in given and item.required:
                    target = self.made(str(item.type.entity), f"{variable}_{item.name}")
                if target is None and item.name not in given and item.required:
                    target = self.add(str(item.type.entity), name=f"{variable}_{item.name}")
                record[item.name] = target.id if isinstance(target, Ref) else None
                if isinstance(target, Ref):
                    linked.add(target)
            elif item.name in given:
                record[item.name] = given[item.name]
            else:
                record[item.name] = arranged_value(entity, item, k, record, len(self.order))
        self._keep_unique(entity, record, given, k)
        if minimal:  # what the app fills is left out (samples were made knowing it)
            for item in self.entity(entity).fields:
                app_fills = item.default is not None or item.set_on_create or not item.required
                if item.is_stored and item.name not in given and app_fills:
                    record[item.name] = None
        ref = self.world.add(entity, record).ref
        if stored:
            self.order.append((variable, ref))
        else:
            self.loose[ref] = variable
        return ref

    def made(self, entity: str, name: str) -> Ref | None:
        """A record its factory makes, named in the test; None where it has none."""
        if self.factories is None:
            return None
        ref = make(self.factories, self.world, entity)
        if ref is not None:
            self.world.tops.add(ref)
            self.order.append((self.names.take(name), ref))
        return ref

    def shared(self, entity: str, item: Field, taken: set[Ref]) -> Ref | None:
        """An arranged record to refer to, one the record does not refer to already."""
        if not self.share or (entity, item.name) in self.counted:
            return None
        avoid = taken | self.private
        return next(
            (ref for _, ref in self.order if ref.entity == item.type.entity and ref not in avoid),
            None,
        )

    def _keep_unique(
        self, entity: str, record: dict[str, Any], given: dict[str, Any], k: int
    ) -> None:
        """Change a field the caller left free until no stored record shares the values of
        a unique group with this one."""
        others = [r.values for r in self.world.all(entity)]
        for group in unique_groups(self.entity(entity)):
            free = [name for name in group if name not in given]
            seen = {tuple(o.get(n) for n in group) for o in others}
            for attempt in range(1, 12):
                if tuple(record.get(n) for n in group) not in seen:
                    break
                if None in (record.get(n) for n in group) or not free:
                    break
                item = self.fields_of(entity)[free[attempt % len(free)]]
                if item.type.kind == "reference":
                    record[item.name] = self.add(str(item.type.entity)).id
                elif item.type.kind == "enum":
                    states = item.type.values
                    record[item.name] = states[(states.index(record[item.name]) + 1) % len(states)]
                else:
                    record[item.name] = sample(entity, item, k + attempt, record)

    def problem(self) -> str | None:
        return world_problem(self.world)

    def lines(self, clock: Clock) -> list[str]:
        return arrangement_lines(self.ir, clock, self.world, self.order)
