"""The domain part of the IR: entities, their fields, types and constraints."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as PydanticField
from pydantic import PrivateAttr

from specloom.ir.common import KeyedList, Node, Value, private_attributes

ScalarKind = Literal[
    "string",
    "text",
    "integer",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "email",
    "url",
    "enum",
]
TypeKind = Literal[ScalarKind, "reference", "collection"]

NUMERIC_KINDS: frozenset[str] = frozenset({"integer", "decimal"})
TEMPORAL_KINDS: frozenset[str] = frozenset({"date", "datetime"})
TEXTUAL_KINDS: frozenset[str] = frozenset({"string", "text", "email", "url"})
ORDERED_KINDS: frozenset[str] = NUMERIC_KINDS | TEMPORAL_KINDS


class FieldType(Node):
    """The type of a field.

    `reference` points at one record of `entity`; `collection` holds the child
    records of `entity` that point back through `via` (a reference field of the
    child).
    """

    kind: TypeKind
    precision: int | None = None
    scale: int | None = None
    values: list[str] = PydanticField(default_factory=list)
    entity: str | None = None
    via: str | None = None

    def describe(self) -> str:
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.kind == "enum":
            return "enum " + " | ".join(self.values)
        if self.kind == "reference":
            return str(self.entity)
        if self.kind == "collection":
            return f"list of {self.entity}"
        return self.kind


class DefaultValue(Node):
    """A field's default: a literal, another field of the record, `now` or `today`."""

    kind: Literal["literal", "field", "now", "today"]
    value: Value | None = None
    field: str | None = None


class Bound(Node):
    """A comparison constraint: `>= 1`, `< 100`, against another field (`after
    starts_at`), or against the clock (`after now`, `on or after today`)."""

    op: Literal[">", ">=", "<", "<="]
    value: Value | None = None
    field: str | None = None
    clock: Literal["now", "today"] | None = None


class Field(Node):
    """One field of an entity, with every constraint the spec gives it."""

    name: str
    type: FieldType
    required: bool = False
    optional: bool = False
    unique: bool = False
    read_only: bool = False
    set_on_create: bool = False
    set_on_update: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    bounds: list[Bound] = PydanticField(default_factory=list)
    default: DefaultValue | None = None
    unique_with: list[str] = PydanticField(default_factory=list)
    requirement_ids: list[str] = PydanticField(default_factory=list)

    @property
    def json_name(self) -> str:
        """The name clients use: a reference `book` travels as `book_id`."""
        return f"{self.name}_id" if self.type.kind == "reference" else self.name

    @property
    def is_stored(self) -> bool:
        """A collection is derived from its children; every other field is a column."""
        return self.type.kind != "collection"


class UniqueTogether(Node):
    """A set of fields whose values, taken together, are unique among records."""

    fields: list[str]
    requirement_id: str = ""


class Entity(Node):
    """A kind of record the application stores."""

    name: str
    description: str = ""
    fields: list[Field] = PydanticField(default_factory=list)
    unique_together: list[UniqueTogether] = PydanticField(default_factory=list)

    def field(self, name: str) -> Field | None:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None


class DomainModel(Node):
    """Every entity of the application, in spec order."""

    entities: list[Entity] = PydanticField(default_factory=list)
    _by_name: KeyedList = PrivateAttr(default_factory=KeyedList)

    def entity(self, name: str) -> Entity | None:
        # the private index read without pydantic's (slow) attribute hook: hot path
        index: KeyedList = private_attributes(self)["_by_name"]
        found: Entity | None = index.get(self.entities, "name", name)
        return found

    def __eq__(self, other: object) -> bool:
        # The name index is a cache, not part of the value.
        if not isinstance(other, DomainModel):
            return NotImplemented
        return self.range == other.range and self.entities == other.entities

    __hash__ = None  # type: ignore[assignment]  # mutable model, like BaseModel itself
