"""Record factories: `tests/factories.py` of the generated app, and the oracle's model of
what each factory adds.

`make_book(db)` adds a valid Book and flushes it. What it does, exactly as `make` below
models it, so the oracle's world holds what the database holds:

- the n-th record a factory makes of an entity in one test takes the n-th values of the
  entity's unique fields (values far from those of the records a test arranges itself);
  every other field takes the value of the first arranged record: its default, a sample,
  or "a day ago" for a time set on create;
- a required reference points at the first record of its entity that a factory made in
  the test, made first when there is none; where a rule or a unique group counts records
  by that reference, it points at a new record each time.

Arrangements use the factories for the records a test needs only because a record it
does care about must refer to them: a test of an entity deep in a chain of required
references reads `survey_contact = make_contact(db)`, not fifty constructors.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from specloom.codegen.pycode import docstring
from specloom.codegen.testgen.memo import per_ir
from specloom.codegen.testgen.pysrc import Clock, Module, py_value
from specloom.codegen.testgen.schema import unique_groups
from specloom.codegen.testgen.slots import arranged_value, counted_links, field_order, rule_bounds
from specloom.codegen.testgen.validity import world_problem
from specloom.codegen.testgen.values import fits, sample
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field
from specloom.spec.names import snake

FIRST_K = 1000  # the sample number of a factory's first record: far from arranged ones
PER_TEST = 8  # records a factory makes of one entity in one test, at most
ARRANGED_KS = range(64)  # the sample numbers arranged records may take


def factory_name(entity: str) -> str:
    return f"make_{snake(entity)}"


class Factories:
    """The factories of one application: their values, and which entities have one."""

    def __init__(self, ir: ApplicationIR) -> None:
        self.ir = ir
        self.counted = counted_links(ir)
        self._values: dict[tuple[str, int], dict[str, Any]] = {}
        self._usable: dict[str, bool] = {}
        self._references: dict[str, list[Field]] = {}

    def entity(self, name: str) -> Entity:
        found = self.ir.domain.entity(name)
        if found is None:
            raise KeyError(name)
        return found

    def references(self, entity: str) -> list[Field]:
        """The required references a factory fills, in the order it fills them."""
        if entity not in self._references:
            found = self.entity(entity)
            self._references[entity] = [
                item
                for item in field_order(found, {f.name: f for f in found.fields})
                if item.type.kind == "reference" and item.required
            ]
        return self._references[entity]

    def fresh(self, entity: str, item: Field) -> bool:
        """A new referenced record each time (a rule or unique group counts by it)."""
        return (entity, item.name) in self.counted

    def varied(self, entity: Entity) -> set[str]:
        return {name for group in unique_groups(entity) for name in group}

    def values(self, entity: str, n: int) -> dict[str, Any]:
        """The fields (not the references) of the n-th record made of `entity`."""
        key = (entity, n)
        if key not in self._values:
            found = self.entity(entity)
            fields = rule_bounds(self.ir, found)
            varied = self.varied(found)
            record: dict[str, Any] = {}
            for item in field_order(found, fields):
                if item.type.kind == "reference":
                    record[item.name] = None
                    continue
                k = FIRST_K + n if item.name in varied else 0
                record[item.name] = arranged_value(entity, item, k, record)
            self._values[key] = record
        return self._values[key]

    def usable(self, entity: str) -> bool:
        """The entity has a factory: its records are valid, unique, keep the rules, and so
        do those of the entities it needs."""
        if entity not in self._usable:
            self._usable[entity] = False  # a cycle of required references has none
            self._usable[entity] = self._check(entity)
        return self._usable[entity]

    def _check(self, entity: str) -> bool:
        found = self.entity(entity)
        if not all(self.usable(str(item.type.entity)) for item in self.references(entity)):
            return False
        fields = rule_bounds(self.ir, found)
        for n in range(PER_TEST):
            record = self.values(entity, n)
            for name, value in record.items():
                item = fields[name]
                scalar = value is not None and item.type.kind != "reference"
                if scalar and not fits(item, value, record):
                    return False
        for group in unique_groups(found):
            scalars = [name for name in group if fields[name].type.kind != "reference"]
            if len(scalars) < len(group):
                continue  # a reference in the group is a new record each time
            made = {tuple(self.values(entity, n)[name] for name in group) for n in range(PER_TEST)}
            if len(made) < PER_TEST:
                return False
            arranged = {
                tuple(sample(entity, fields[name], k) for name in group) for k in ARRANGED_KS
            }
            if made & arranged:
                return False
        world = World(self.ir)
        for _ in range(PER_TEST):
            if _made_within_limits(self, world, entity) is None:
                return False
        return world_problem(world) is None


@per_ir
def factories_of(ir: ApplicationIR) -> Factories:
    """The factories of an application, computed once while its tests are generated."""
    return Factories(ir)


# --- the oracle's model ---------------------------------------------------------------


def make(factories: Factories, world: World, entity: str) -> Ref | None:
    """Add to `world` what `make_<entity>(db)` adds, and the record it returns; None (and
    nothing added) when the entity has no factory or the test would need more than
    PER_TEST records of an entity from factories."""
    if not factories.usable(entity):
        return None
    return _made_within_limits(factories, world, entity)


def _made_within_limits(factories: Factories, world: World, entity: str) -> Ref | None:
    counts = Counter({name: len(ids) for name, ids in world.made.items()})
    if not _fits(factories, entity, counts):
        return None
    return _make(factories, world, entity)


def _fits(factories: Factories, entity: str, counts: Counter[str]) -> bool:
    """The records a factory call makes stay within PER_TEST of each entity."""
    if counts[entity] >= PER_TEST:
        return False
    for item in factories.references(entity):
        target = str(item.type.entity)
        if counts[target] and not factories.fresh(entity, item):
            continue
        if not _fits(factories, target, counts):
            return False
    counts[entity] += 1
    return True


def _make(factories: Factories, world: World, entity: str) -> Ref:
    made = world.made.setdefault(entity, [])
    record = dict(factories.values(entity, len(made)))
    for item in factories.references(entity):
        target = str(item.type.entity)
        earlier = world.made.get(target)
        if earlier and not factories.fresh(entity, item):
            record[item.name] = earlier[0]
        else:
            record[item.name] = _make(factories, world, target).id
    ref = world.add(entity, record).ref
    made.append(ref.id)
    return ref


# --- tests/factories.py -----------------------------------------------------------------

FACTORIES_DOC = """Factories of valid records for arranging tests: `make_book(db)` adds a Book
and flushes it; keyword arguments replace the values it would take.

The n-th record a factory makes of an entity in one test takes the n-th values of the
unique fields. A required reference points at the first record of its entity a factory
made in the test (made first when there is none), or at a new one where a rule or a
unique group counts records by it. The test generator's oracle models exactly this."""

SHARED = '''_made: dict[str, list[Any]] = {}


def forget() -> None:
    """Forget the records made so far: every test starts afresh."""
    _made.clear()


def _first(entity: str) -> Any:
    """The first record of `entity` a factory made in this test, or None."""
    made = _made.get(entity)
    return made[0] if made else None


def _number(entity: str) -> int:
    """How many records of `entity` the factories made in this test."""
    return len(_made.get(entity, ()))


def _keep(db: Session, entity: str, record: Any) -> None:
    db.add(record)
    db.flush()
    _made.setdefault(entity, []).append(record)
'''


def render_factories(ir: ApplicationIR) -> str:
    """The text of `tests/factories.py`: a factory per entity that has one."""
    factories = factories_of(ir)
    module = Module(FACTORIES_DOC, tests=False)
    module.need("typing", "Any")
    module.need("sqlalchemy.orm", "Session")
    blocks = [SHARED]
    for entity in ir.domain.entities:
        if factories.usable(entity.name):
            blocks.append(_factory(factories, module, entity))
    module.blocks = blocks
    return module.render()


def _factory(factories: Factories, module: Module, entity: Entity) -> str:
    clock = Clock(module)
    model = module.model(entity.name)
    varied = factories.varied(entity)
    items: list[str] = []
    numbered = False
    for name, value in factories.values(entity.name, 0).items():
        if value is None:
            continue
        if name in varied:
            made = [factories.values(entity.name, n)[name] for n in range(PER_TEST)]
            items.append(f'"{name}": ({", ".join(py_value(v, clock) for v in made)})[n]')
            numbered = True
        else:
            items.append(f'"{name}": {py_value(value, clock)}')
    lines = [f'n = _number("{entity.name}")'] if numbered else []
    lines += clock.preamble()
    lines.append("values: dict[str, Any] = {" + ", ".join(items) + "}")
    for item in factories.references(entity.name):
        target = str(item.type.entity)
        made_anew = f"{factory_name(target)}(db)"
        if not factories.fresh(entity.name, item):
            made_anew = f'_first("{target}") or {made_anew}'
        lines += [f'if "{item.name}" not in fields:', f'    values["{item.name}"] = {made_anew}']
    lines += [
        "values.update(fields)",
        f"record = {model}(**values)",
        f'_keep(db, "{entity.name}", record)',
        "return record",
    ]
    requirements = [
        req
        for item in entity.fields
        for req in item.requirement_ids
        if req.endswith((".required", ".unique", ".type"))
    ]
    summary = f"A new valid {entity.name}, added and flushed; `fields` replace the values it takes"
    head = f"def {factory_name(entity.name)}(db: Session, **fields: Any) -> {model}:\n"
    return head + docstring(summary, requirements) + "".join(f"    {line}\n" for line in lines)
