"""The entities of an application as the oracle reads them record after record: each
entity's fields by name, its stored fields, references, collections and unique groups,
computed once per IR (`schema_of`) instead of walking the IR's models every time."""

from __future__ import annotations

from dataclasses import dataclass

from specloom.codegen.testgen.memo import per_ir
from specloom.ir.application import ApplicationIR
from specloom.ir.domain import Entity, Field


@dataclass(frozen=True)
class EntitySchema:
    """One entity's fields, grouped the ways the oracle walks them (spec order kept)."""

    entity: Entity
    by_name: dict[str, Field]  # the first field of each name, as `Entity.field` finds it
    stored: tuple[Field, ...]
    references: tuple[Field, ...]
    collections: tuple[Field, ...]
    unique_groups: tuple[tuple[str, ...], ...]
    set_on_update: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)


def unique_groups(entity: Entity) -> list[list[str]]:
    """The fields whose values (taken together) no two records share."""
    groups = [[f.name] for f in entity.fields if f.unique]
    groups += [[f.name, *f.unique_with] for f in entity.fields if f.unique_with]
    groups += [list(item.fields) for item in entity.unique_together]
    return groups


def _schema(entity: Entity) -> EntitySchema:
    by_name: dict[str, Field] = {}
    for item in entity.fields:
        by_name.setdefault(item.name, item)
    fields = entity.fields
    return EntitySchema(
        entity=entity,
        by_name=by_name,
        stored=tuple(f for f in fields if f.type.kind != "collection"),
        references=tuple(f for f in fields if f.type.kind == "reference"),
        collections=tuple(f for f in fields if f.type.kind == "collection"),
        unique_groups=tuple(tuple(group) for group in unique_groups(entity)),
        set_on_update=tuple(f for f in fields if f.set_on_update),
    )


@per_ir
def schema_of(ir: ApplicationIR) -> dict[str, EntitySchema]:
    """Every entity's schema by name (the first entity of a name, as the IR finds it)."""
    found: dict[str, EntitySchema] = {}
    for entity in ir.domain.entities:
        if entity.name not in found:
            found[entity.name] = _schema(entity)
    return found
