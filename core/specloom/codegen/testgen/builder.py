"""Builds the world of one assignment of a template's knobs: the present slots' records,
added to a fresh world, referenced records first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specloom.codegen.testgen.slots import Slot, arranged_value
from specloom.codegen.testgen.world import Ref, World

if TYPE_CHECKING:
    from specloom.codegen.testgen.template import Template

OWN = "<own>"  # each slot keeps its own value


class Builder:
    """Adds the present slots' records to a fresh world, referenced records first."""

    def __init__(self, template: Template, assignment: dict[str, Any], aliases: dict[str, str]):
        self.template = template
        self.assignment = assignment
        self.aliases = aliases
        self.world = World(template.ir)
        self.refs: dict[str, Ref] = {}
        self.created: list[str] = []
        self.building: set[str] = set()

    def resolve(self, name: str) -> str:
        return self.aliases.get(name, name)

    def links(self, slot: Slot) -> dict[str, str]:
        links = dict(slot.links)
        for field_name, key in self.template.layout(slot.name).links:
            chosen = self.assignment.get(key)
            if chosen is not None:
                links[field_name] = chosen
        return links

    def create(self, name: str) -> None:
        if name in self.refs or name in self.building:
            return
        self.building.add(name)
        template = self.template
        layout = template.layout(name)
        slot = layout.slot
        links = self.links(slot)
        for target in links.values():
            self.create(self.resolve(target))
        assignment = self.assignment
        refs = self.refs
        values: dict[str, Any] = {}
        late: list[str] = []
        for item, reference, first_key, field_key in layout.fields:
            if reference:
                linked = links.get(item.name)
                values[item.name] = None
                if linked is not None:
                    target = self.resolve(linked)
                    if target in refs:
                        values[item.name] = refs[target].id
                    elif target == name:
                        late.append(item.name)
                continue
            chosen = OWN
            if first_key is not None:
                chosen = assignment.get(first_key, OWN)
            if chosen == OWN:
                chosen = assignment.get(field_key, OWN)
            if chosen == OWN:
                chosen = arranged_value(slot.entity, item, slot.k, values, len(self.created))
            values[item.name] = chosen
        record = self.world.add(slot.entity, values)
        for field_name in late:
            record.values[field_name] = record.id
        self.refs[name] = record.ref
        self.created.append(name)
        self.building.discard(name)
