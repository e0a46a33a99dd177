"""An in-memory world of records: what the test generator's oracle reads and writes.

Records keep their stored fields by spec name; a reference holds the id of the
record it points at (or None). Collections are derived, as in the generated app:
the children whose reference points back at the parent, in id order. Ids count
from 1 per entity in the order records are added, as a fresh database does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from specloom.codegen.testgen.schema import EntitySchema, schema_of
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field


@dataclass(order=True, unsafe_hash=True, slots=True)
class Ref:
    """A record by entity and id: how names and references point at records. Treat it as
    immutable (it hashes by value); not frozen, because the oracle makes one for nearly
    every record it reads, and a frozen dataclass is several times slower to build."""

    entity: str
    id: int


@dataclass
class Record:
    entity: str
    id: int
    values: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Record:
        """The same record with its own values (built without the dataclass's __init__:
        worlds are copied record by record for every run of the oracle)."""
        other = Record.__new__(Record)
        other.__dict__.update(self.__dict__)
        other.values = dict(self.values)
        return other

    @cached_property
    def ref(self) -> Ref:
        return Ref(self.entity, self.id)


class World:
    """Records by entity, in id order, and the next id of each entity.

    Each entity's table keeps its records in id order as they are added (ids only grow),
    so reading them in order needs no sorting."""

    def __init__(self, ir: ApplicationIR) -> None:
        self.ir = ir
        self.schemas = schema_of(ir)
        self.records: dict[str, dict[int, Record]] = {}
        self.next_ids: dict[str, int] = {}
        self.order: list[Ref] = []  # insertion order across entities (arrangement order)
        self.made: dict[str, list[int]] = {}  # ids of the records factories made, by entity
        self.tops: set[Ref] = set()  # records a test makes by calling a factory itself
        # None: every record is this world's own; else the records it may write in place
        # (the others are shared with the world it was made from: see `share`)
        self.owned: set[Ref] | None = None

    def copy(self) -> World:
        other = World(self.ir)
        other.records = {
            name: {key: record.copy() for key, record in table.items()}
            for name, table in self.records.items()
        }
        other.next_ids = dict(self.next_ids)
        other.order = list(self.order)
        other.made = {name: list(ids) for name, ids in self.made.items()}
        other.tops = set(self.tops)
        return other

    def share(self) -> World:
        """The same records, shared with this world until the new one writes one through
        `writable` (the oracle copies a world for every run and writes few records)."""
        other = World(self.ir)
        other.records = {name: dict(table) for name, table in self.records.items()}
        other.next_ids = dict(self.next_ids)
        other.order = list(self.order)
        other.made = {name: list(ids) for name, ids in self.made.items()}
        other.tops = set(self.tops)
        other.owned = set()
        return other

    def writable(self, ref: Ref) -> Record:
        """The record, to be written: this world's own copy of it."""
        record = self.deref(ref)
        if self.owned is None or ref in self.owned:
            return record
        record = self.records[ref.entity][ref.id] = record.copy()
        self.owned.add(ref)
        return record

    def entity(self, name: str) -> Entity:
        return self.schema(name).entity

    def schema(self, name: str) -> EntitySchema:
        found = self.schemas.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def add(self, entity: str, values: dict[str, Any]) -> Record:
        number = self.next_ids.get(entity, 1)
        self.next_ids[entity] = number + 1
        record = Record(entity, number, dict(values))
        ref = record.__dict__["ref"] = Ref(entity, number)  # what `ref` would compute
        table = self.records.get(entity)
        if table is None:
            table = self.records[entity] = {}
        table[number] = record
        self.order.append(ref)
        if self.owned is not None:
            self.owned.add(ref)
        return record

    def get(self, entity: str, record_id: int | None) -> Record | None:
        if record_id is None:
            return None
        table = self.records.get(entity)
        return None if table is None else table.get(record_id)

    def deref(self, ref: Ref) -> Record:
        record = self.get(ref.entity, ref.id)
        if record is None:
            raise KeyError(f"{ref.entity} {ref.id} is gone")
        return record

    def all(self, entity: str) -> list[Record]:
        table = self.records.get(entity)
        return [] if table is None else list(table.values())

    def children(self, parent: Ref, collection: Field) -> list[Record]:
        child = str(collection.type.entity)
        via = str(collection.type.via)
        return [r for r in self.all(child) if r.values.get(via) == parent.id]

    def referencing(self, target: Ref) -> list[tuple[Record, Field]]:
        """Records whose reference points at `target`, with the reference."""
        found: list[tuple[Record, Field]] = []
        for entity in self.ir.domain.entities:
            for item in entity.fields:
                if item.type.kind != "reference" or item.type.entity != target.entity:
                    continue
                found += [
                    (r, item) for r in self.all(entity.name) if r.values.get(item.name) == target.id
                ]
        return found

    def delete(self, ref: Ref) -> list[Ref]:
        """Remove a record and, as the app's cascades do, the children of its collections."""
        record = self.get(ref.entity, ref.id)
        if record is None:
            return []
        gone = [ref]
        for item in self.schema(ref.entity).collections:
            for child in self.children(ref, item):
                gone += self.delete(child.ref)
        del self.records[ref.entity][ref.id]
        return gone

    def dangling(self) -> list[tuple[Record, Field]]:
        """References pointing at records that no longer exist."""
        found: list[tuple[Record, Field]] = []
        for entity in self.ir.domain.entities:
            table = self.records.get(entity.name)
            if not table:
                continue
            for item in self.schemas[entity.name].references:
                name = item.name
                targets = self.records.get(str(item.type.entity)) or {}
                if _all_point_at(table, name, targets):
                    continue
                for record in table.values():
                    value = record.values.get(name)
                    if value is not None and value not in targets:
                        found.append((record, item))
        return found

    def refs(self) -> list[Ref]:
        return [Ref(name, key) for name in sorted(self.records) for key in self.records[name]]


def _all_point_at(table: dict[int, Record], name: str, targets: dict[int, Record]) -> bool:
    """Every record's reference `name` is null or the id of one of `targets` (told with
    sets: a world is checked after every run of the oracle, and it nearly always is)."""
    try:
        held = {record.values.get(name) for record in table.values()}
    except TypeError:  # a value that is no id
        return False
    held.discard(None)
    return held.issubset(targets.keys())
