"""The shape of a flow's scenarios: which records to arrange and which values to vary.

A template holds slots (the path records, the records reference inputs point at, the
children of the collections and queries the flow walks, and the records their
required references need) and knobs: a field of a family of slots (with an override
for the family's first slot), the number of children of a family of groups, an
input, which record a reference input or an optional reference points at. An
assignment of every knob gives one world and one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specloom.codegen.testgen.builder import OWN, Builder
from specloom.codegen.testgen.facts import Facts, GroupSpec, merged_groups
from specloom.codegen.testgen.inputs import input_field, is_reference_input
from specloom.codegen.testgen.slots import (
    Names,
    Slot,
    arranged_value,
    counted_links,
    field_order,
    rule_bounds,
)
from specloom.codegen.testgen.values import candidates, sample
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow, FlowInput
from specloom.ir.domain import Entity, Field
from specloom.spec.names import snake

ABSENT = "<absent>"  # an optional input the client leaves out
MAX_GROUP = 5
MAX_DEPTH = 2
MAX_REF_DEPTH = 8


@dataclass
class Group:
    key: str
    family: str
    spec: GroupSpec | None
    owner: str | None
    slots: list[str] = field(default_factory=list)


@dataclass
class Knob:
    key: str
    kind: str  # field, first, count, input, alias, link
    options: list[Any]
    family: str | None = None
    field: Field | None = None
    input: FlowInput | None = None
    representative: str | None = None  # the slot whose value stands for the family's


@dataclass
class Instance:
    world: World
    refs: dict[str, Ref]  # slot name -> its record
    created: list[str]  # slot names in the order their records were added
    params: list[int]
    body: dict[str, Any]
    aliases: dict[str, str]


class Template:
    def __init__(
        self,
        ir: ApplicationIR,
        flow: Flow,
        endpoint: Endpoint,
        facts: Facts,
        names: Names,
        plain: bool = False,
    ) -> None:
        self.plain = plain  # the flow stands for a plain endpoint (or an ORM write)
        self.ir = ir
        self.flow = flow
        self.endpoint = endpoint
        self.facts = facts
        self.names = names
        self.slots: dict[str, Slot] = {}
        self.groups: dict[str, Group] = {}
        self.families: dict[str, list[str]] = {}
        self.counts: dict[str, list[int]] = {}
        self.knobs: list[Knob] = []
        self.input_slots: dict[str, str] = {}
        self.path_slots: list[str] = []
        self.group_specs = merged_groups(facts)
        self.counted = counted_links(ir)
        self._fields: dict[str, dict[str, Field]] = {}
        self._ordered: dict[str, list[Field]] = {}
        self._layouts: dict[str, Layout] = {}
        self.literals = sorted(set(facts.literals), key=lambda v: (type(v).__name__, v))
        self._build()

    def ordered(self, entity: str) -> list[Field]:
        """The entity's stored fields, each after those its bounds and default use."""
        if entity not in self._ordered:
            self._ordered[entity] = field_order(self.entity(entity), self.fields_of(entity))
        return self._ordered[entity]

    def fields_of(self, entity: str) -> dict[str, Field]:
        if entity not in self._fields:
            self._fields[entity] = rule_bounds(self.ir, self.entity(entity))
        return self._fields[entity]

    def entity(self, name: str) -> Entity:
        found = self.ir.domain.entity(name)
        if found is None:
            raise KeyError(name)
        return found

    # --- slots -------------------------------------------------------------------------------

    def add_slot(self, slot: Slot) -> Slot:
        slot.k = sum(1 for other in self.slots.values() if other.entity == slot.entity)
        self.slots[slot.name] = slot
        self.families.setdefault(slot.family, []).append(slot.name)
        return slot

    def _build(self) -> None:
        previous: Slot | None = None
        for parameter in self.endpoint.parameters:
            name = self.names.take(snake(parameter.entity))
            slot = Slot(name, parameter.entity, "path", 0, name)
            if previous is not None:
                via = self._parent_via(previous.entity, parameter.entity)
                if via is not None:
                    slot.links[via] = previous.name
            self.add_slot(slot)
            self.path_slots.append(slot.name)
            previous = slot
        for item in self.flow.inputs:
            if is_reference_input(item) and item.reference:
                name = self.names.take(item.name[:-3])
                self.add_slot(Slot(name, item.reference, "input", 0, name))
                self.input_slots[item.name] = name
        for name in list(self.slots):
            self._required_refs(self.slots[name], 0)
        for entity in sorted(self.facts.free):
            self._group(None, "", GroupSpec("", entity, ""), depth=1)
        for name in list(self.slots):
            if self.slots[name].role in ("path", "input", "ref"):
                self._attach_groups(self.slots[name])
        for name in list(self.slots):
            self._required_refs(self.slots[name], 0)
        self.positions = self._positions()
        self._knobs()

    def _positions(self) -> dict[str, int]:
        """The order records are added when every slot is present: referenced first."""
        order: dict[str, int] = {}

        def visit(name: str, trail: set[str]) -> None:
            if name in order or name in trail:
                return
            for target in self.slots[name].links.values():
                visit(target, trail | {name})
            order[name] = len(order)

        for name in self.slots:
            visit(name, set())
        return order

    def _parent_via(self, parent: str, child: str) -> str | None:
        if self.endpoint.parent_field:
            owner = self.ir.domain.entity(parent)
            item = owner.field(self.endpoint.parent_field) if owner else None
            if item is not None and item.type.kind == "collection":
                return item.type.via
        for item in self.entity(child).fields:
            if item.type.kind == "reference" and item.type.entity == parent:
                return item.name
        return None

    def _attach_groups(self, owner: Slot) -> None:
        if owner.depth >= MAX_DEPTH:
            return
        for spec in self.group_specs:
            if spec.owner == owner.entity and spec.via not in owner.links:
                self._group(owner, owner.family, spec, owner.depth + 1)

    def _group(self, owner: Slot | None, owner_family: str, spec: GroupSpec, depth: int) -> None:
        key = f"{owner.name if owner else ''}>{spec.child}.{spec.via}"
        family = f"{owner_family}>{spec.child}.{spec.via}"
        if key in self.groups:
            return
        group = Group(key, family, spec if owner else None, owner.name if owner else None)
        self.groups[key] = group
        options = self.counts.setdefault(family, self._counts(group.spec))
        for index in range(max(options)):
            name = self.names.take(snake(spec.child), True)
            slot = Slot(name, spec.child, "child", depth, family, group=key, index=index)
            if owner is not None:
                slot.links[spec.via] = owner.name
            self.add_slot(slot)
            group.slots.append(slot.name)
        for name in group.slots:
            self._attach_groups(self.slots[name])

    def _counts(self, spec: GroupSpec | None) -> list[int]:
        """How many children to try: 1, 0, 2 for what the flow walks, and the counts its
        literals compare with; 0, 1 (and the maximum) for a group only a rule looks at."""
        if spec is not None and spec.from_rule:
            wanted = [0, 1] + ([spec.cardinality] if spec.cardinality is not None else [])
        else:
            wanted = [1, 0, 2]
            for value in self.literals:
                if isinstance(value, int) and 0 < value <= MAX_GROUP:
                    wanted += [value - 1, value, value + 1]
            if spec is not None and spec.cardinality is not None:
                wanted.append(spec.cardinality)
        return [n for n in dict.fromkeys(wanted) if 0 <= n <= MAX_GROUP]

    def _required_refs(self, slot: Slot, depth: int) -> None:
        if depth > MAX_REF_DEPTH:
            raise ValueError(f"references of {slot.entity} go too deep")
        for item in self.entity(slot.entity).fields:
            if item.type.kind != "reference" or not item.required or item.name in slot.links:
                continue
            target = str(item.type.entity)
            if (slot.entity, item.name) not in self.counted:
                taken = set(slot.links.values())  # two references of one record: two records
                shared = next(
                    (
                        s
                        for s in self.slots.values()
                        if s.role == "ref" and s.entity == target and s.name not in taken
                    ),
                    None,
                )
                if shared is not None and shared.name != slot.name:
                    slot.links[item.name] = shared.name  # one record serves every slot
                    continue
            preferred = item.name if slot.role in ("path", "input") else f"{slot.name}_{item.name}"
            family = f"{slot.family}.{item.name}"
            ref = Slot(self.names.take(preferred), target, "ref", slot.depth + 1, family)
            ref.parent = slot.name
            self.add_slot(ref)
            slot.links[item.name] = ref.name
            self._required_refs(ref, depth + 1)

    # --- knobs ----------------------------------------------------------------------------------

    def _knobs(self) -> None:
        roots = [*self.path_slots, *self.input_slots.values()]
        for item in self.flow.inputs:
            if is_reference_input(item):
                own = self.input_slots[item.name]
                others = [n for n in roots if n != own and self.slots[n].entity == item.reference]
                if others:
                    self.knobs.append(
                        Knob(f"alias:{item.name}", "alias", [own, *others], input=item)
                    )
        sent: dict[str, Any] = {}
        patch = self.plain and self.endpoint.kind == "update"  # send nothing unless asked
        for item in self.flow.inputs:
            if is_reference_input(item):
                if item.optional:
                    flags = [True, False] if patch else [False, True]
                    self.knobs.append(Knob(f"absent:{item.name}", "absent", flags, input=item))
                continue
            spec_field = input_field(self.ir, item)
            entity = item.entity or "Input"
            base = sample(entity, spec_field, 0, sent)
            sent[spec_field.name] = base
            options = [
                v for v in candidates(entity, spec_field, self.literals, base) if v is not None
            ]
            if item.optional:
                options = [ABSENT, *options] if patch else [*options, ABSENT]
            key = f"input:{item.name}"
            self.knobs.append(Knob(key, "input", options, input=item, field=spec_field))
        for family, options in self.counts.items():
            self.knobs.append(Knob(f"count:{family}", "count", options, family=family))
        for family, members in self.families.items():
            self._field_knobs(family, members)

    def _field_knobs(self, family: str, members: list[str]) -> None:
        first = self.slots[members[0]]
        record: dict[str, Any] = {}
        roots = [*self.path_slots, *self.input_slots.values()]
        for item in self.ordered(first.entity):
            relevant = (first.entity, item.name) in self.facts.fields
            if item.type.kind == "reference":
                record[item.name] = None
                if relevant and item.name not in first.links:
                    targets = [n for n in roots if self.slots[n].entity == item.type.entity]
                    if targets:
                        key = f"link:{family}.{item.name}"
                        self.knobs.append(Knob(key, "link", [None, *targets], family, item))
                continue
            base = arranged_value(first.entity, item, first.k, record, self.positions[first.name])
            record[item.name] = base
            if not relevant:
                continue
            found = candidates(first.entity, item, self.literals, base)
            options = [v for v in found if not (v == base and type(v) is type(base))]
            if not options:
                continue
            knob = Knob(f"field:{family}.{item.name}", "field", [OWN, *options], family, item)
            knob.representative = first.name
            self.knobs.append(knob)
            if len(members) > 1:
                override = Knob(
                    f"first:{family}.{item.name}", "first", [OWN, *options], family, item
                )
                override.representative = first.name
                self.knobs.append(override)

    def baseline(self) -> dict[str, Any]:
        return {knob.key: knob.options[0] for knob in self.knobs}

    # --- one world ----------------------------------------------------------------------------

    def instantiate(self, assignment: dict[str, Any]) -> Instance:
        aliases: dict[str, str] = {}
        for knob in self.knobs:
            if knob.kind == "alias" and knob.input is not None:
                own = self.input_slots[knob.input.name]
                if assignment[knob.key] != own:
                    aliases[own] = assignment[knob.key]
        present = self._present(assignment, aliases)
        builder = Builder(self, assignment, aliases)
        for name in self.slots:
            if name in present:
                builder.create(name)
        refs = builder.refs
        params = [refs[name].id for name in self.path_slots]
        body: dict[str, Any] = {}
        for item in self.flow.inputs:
            if is_reference_input(item):
                if not assignment.get(f"absent:{item.name}", False):
                    body[item.name] = refs[builder.resolve(self.input_slots[item.name])].id
                continue
            value = assignment[f"input:{item.name}"]
            if value != ABSENT:
                body[item.name] = value
        for slot_name, target in aliases.items():
            refs[slot_name] = refs[target]
        return Instance(builder.world, refs, builder.created, params, body, aliases)

    def _present(self, assignment: dict[str, Any], aliases: dict[str, str]) -> set[str]:
        present: set[str] = set()
        left_out = {
            self.input_slots[key.split(":", 1)[1]]
            for key, value in assignment.items()
            if key.startswith("absent:") and value
        }
        for name, slot in self.slots.items():
            if name in aliases or name in left_out:
                continue
            if slot.role in ("path", "input"):
                present.add(name)
            elif slot.role == "child":
                group = self.groups[str(slot.group)]
                owner_ok = group.owner is None or group.owner in present or group.owner in aliases
                if owner_ok and slot.index < assignment[f"count:{group.family}"]:
                    present.add(name)
            elif slot.parent in present:
                present.add(name)
        return present

    def value_of(self, assignment: dict[str, Any], slot: Slot, item: Field) -> Any:
        """The knob value a slot's field takes, or OWN for its own arranged value."""
        if self.families[slot.family][0] == slot.name:
            chosen = assignment.get(f"first:{slot.family}.{item.name}", OWN)
            if chosen != OWN:
                return chosen
        return assignment.get(f"field:{slot.family}.{item.name}", OWN)

    def layout(self, name: str) -> Layout:
        """How a slot's record is built (its fields in order, the knobs that may set
        them), worked out once: every instance builds it the same way."""
        found = self._layouts.get(name)
        if found is None:
            slot = self.slots[name]
            first = self.families[slot.family][0] == slot.name
            fields: list[tuple[Field, bool, str | None, str]] = []
            for item in self.ordered(slot.entity):
                prefix = f"{slot.family}.{item.name}"
                reference = item.type.kind == "reference"
                fields.append(
                    (item, reference, f"first:{prefix}" if first else None, f"field:{prefix}")
                )
            links = [
                (item.name, f"link:{slot.family}.{item.name}")
                for item in self.entity(slot.entity).fields
            ]
            found = self._layouts[name] = Layout(slot, fields, links)
        return found


@dataclass
class Layout:
    """A slot's fields in the order its record is built, each with whether it is a
    reference and the keys of the knobs that set it (`first:`, only for the first slot
    of its family, and `field:`), and its fields' `link:` knob keys."""

    slot: Slot
    fields: list[tuple[Field, bool, str | None, str]]
    links: list[tuple[str, str]]
