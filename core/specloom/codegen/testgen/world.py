"""An in-memory world of records: what the test generator's oracle reads and writes.

Records keep their stored fields by spec name; a reference holds the id of the
record it points at (or None). Collections are derived, as in the generated app:
the children whose reference points back at the parent, in id order. Ids count
from 1 per entity in the order records are added, as a fresh database does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field


@dataclass(frozen=True, order=True)
class Ref:
    """A record by entity and id: how names and references point at records."""

    entity: str
    id: int


@dataclass
class Record:
    entity: str
    id: int
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> Ref:
        return Ref(self.entity, self.id)


class World:
    """Records by entity, in id order, and the next id of each entity."""

    def __init__(self, ir: ApplicationIR) -> None:
        self.ir = ir
        self.records: dict[str, dict[int, Record]] = {}
        self.next_ids: dict[str, int] = {}
        self.order: list[Ref] = []  # insertion order across entities (arrangement order)
        self.made: dict[str, list[int]] = {}  # ids of the records factories made, by entity
        self.tops: set[Ref] = set()  # records a test makes by calling a factory itself

    def copy(self) -> World:
        other = World(self.ir)
        other.records = {
            name: {key: Record(r.entity, r.id, dict(r.values)) for key, r in table.items()}
            for name, table in self.records.items()
        }
        other.next_ids = dict(self.next_ids)
        other.order = list(self.order)
        other.made = {name: list(ids) for name, ids in self.made.items()}
        other.tops = set(self.tops)
        return other

    def entity(self, name: str) -> Entity:
        found = self.ir.domain.entity(name)
        if found is None:
            raise KeyError(name)
        return found

    def add(self, entity: str, values: dict[str, Any]) -> Record:
        number = self.next_ids.get(entity, 1)
        self.next_ids[entity] = number + 1
        record = Record(entity, number, copy.copy(values))
        self.records.setdefault(entity, {})[number] = record
        self.order.append(record.ref)
        return record

    def get(self, entity: str, record_id: int | None) -> Record | None:
        if record_id is None:
            return None
        return self.records.get(entity, {}).get(record_id)

    def deref(self, ref: Ref) -> Record:
        record = self.get(ref.entity, ref.id)
        if record is None:
            raise KeyError(f"{ref.entity} {ref.id} is gone")
        return record

    def all(self, entity: str) -> list[Record]:
        table = self.records.get(entity, {})
        return [table[key] for key in sorted(table)]

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
        for item in self.entity(ref.entity).fields:
            if item.type.kind == "collection":
                for child in self.children(ref, item):
                    gone += self.delete(child.ref)
        del self.records[ref.entity][ref.id]
        return gone

    def dangling(self) -> list[tuple[Record, Field]]:
        """References pointing at records that no longer exist."""
        found: list[tuple[Record, Field]] = []
        for entity in self.ir.domain.entities:
            if not self.records.get(entity.name):
                continue
            for item in entity.fields:
                if item.type.kind != "reference":
                    continue
                target = str(item.type.entity)
                for record in self.all(entity.name):
                    value = record.values.get(item.name)
                    if value is not None and self.get(target, value) is None:
                        found.append((record, item))
        return found

    def refs(self) -> list[Ref]:
        return [r.ref for name in sorted(self.records) for r in self.all(name)]
