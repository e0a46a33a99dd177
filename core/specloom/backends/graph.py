"""The pattern bank's graph: one interface, `GraphStore`, two implementations.

- `NetworkxGraph` (`graph_networkx.py`), the embedded default: a networkx
  `MultiDiGraph` in memory, saved atomically to `<workspace>/.specloom/graph.json`.
- `Neo4jGraph` (`graph_neo4j.py`): a Neo4j server by bolt URL
  (`SPECLOOM_GRAPH_URL=bolt://host:7687`, `SPECLOOM_GRAPH_USER`,
  `SPECLOOM_GRAPH_PASSWORD`), through the official async driver.

The schema, as Cypher (Neo4j; the networkx graph holds the same nodes and relations):

    // one node per pattern, task, requirement and run, identified by `id`
    CREATE CONSTRAINT pattern_id IF NOT EXISTS FOR (n:Pattern) REQUIRE n.id IS UNIQUE;
    CREATE CONSTRAINT task_id IF NOT EXISTS FOR (n:Task) REQUIRE n.id IS UNIQUE;
    CREATE CONSTRAINT requirement_id IF NOT EXISTS FOR (n:Requirement) REQUIRE n.id IS UNIQUE;
    CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.id IS UNIQUE;

    (:Pattern)-[:IMPLEMENTS]->(:Task)        a pattern is the code of a task
    (:Task)-[:SATISFIES]->(:Requirement)     a task implements a requirement of the spec
    (:Pattern)-[:FROM_RUN]->(:Run)           the run that produced (and verified) it
    (:Task)-[:DEPENDS_ON]->(:Task)           the plan's edges

Nodes and relations carry properties: strings, numbers, booleans, or lists of values
of one of those types (what Neo4j can store; nested maps are refused); setting a
property to None removes it. A node is merged
on (label, id): writing it again updates the properties given and keeps the others.
There is at most one relation of a type between two nodes; merging it again updates
its properties. A relation whose end nodes do not exist yet creates them, with no
properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

LABELS = ("Pattern", "Task", "Requirement", "Run")
RELATIONS: dict[str, tuple[str, str]] = {
    "IMPLEMENTS": ("Pattern", "Task"),
    "SATISFIES": ("Task", "Requirement"),
    "FROM_RUN": ("Pattern", "Run"),
    "DEPENDS_ON": ("Task", "Task"),
}
"""Each relation type, with the labels of its source and target."""

Direction = Literal["out", "in", "both"]
Properties = Mapping[str, Any]


@dataclass(frozen=True, order=True)
class NodeRef:
    """A node: its label (one of `LABELS`) and its id."""

    label: str
    id: str

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"unknown node label {self.label!r}; use one of {', '.join(LABELS)}")

    def __str__(self) -> str:
        return f"{self.label}:{self.id}"


@dataclass(frozen=True)
class Neighbour:
    """A node reached from another: the node, its properties, and how many relations
    away it is (the shortest way within the depth asked for)."""

    node: NodeRef
    distance: int
    properties: dict[str, Any] = field(default_factory=dict, compare=False)


class GraphStore(Protocol):
    """Patterns, tasks, requirements and runs, and their relations."""

    name: str
    """Which implementation (`networkx`, `neo4j`), for messages."""

    async def merge_node(self, node: NodeRef, properties: Properties | None = None) -> None:
        """Create the node unless it exists, and set the properties given."""

    async def merge_relation(
        self,
        source: NodeRef,
        relation: str,
        target: NodeRef,
        properties: Properties | None = None,
    ) -> None:
        """Create the relation (and its end nodes) unless it exists; set the properties."""

    async def get_node(self, node: NodeRef) -> dict[str, Any] | None:
        """The node's properties, or None when there is no such node."""
        ...

    async def relation(
        self, source: NodeRef, relation: str, target: NodeRef
    ) -> dict[str, Any] | None:
        """The relation's properties, or None when there is no such relation."""
        ...

    async def neighbours(
        self,
        node: NodeRef,
        depth: int = 1,
        relations: Sequence[str] | None = None,
        direction: Direction = "both",
    ) -> list[Neighbour]:
        """The nodes within `depth` relations of `node` (not itself), following only
        `relations` (all when None) in `direction`; nearest first, then by label and id."""
        ...

    async def delete_node(self, node: NodeRef) -> None:
        """Remove the node and its relations (an unknown node is ignored)."""

    async def count(self, label: str | None = None) -> int:
        """How many nodes there are (with `label`, when given)."""
        ...

    async def flush(self) -> None:
        """Make every write so far durable."""

    async def close(self) -> None:
        """Flush and release the store."""


_KIND = {str: "string", int: "number", float: "number", bool: "boolean"}


def merge_properties(current: dict[str, Any], changes: Properties) -> None:
    """Apply checked `changes` to `current`: set each value, remove those set to None."""
    for key, value in changes.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value


def check_relation(source: NodeRef, relation: str, target: NodeRef) -> None:
    """Refuse a relation the schema does not have, or between the wrong labels."""
    ends = RELATIONS.get(relation)
    if ends is None:
        raise ValueError(f"unknown relation {relation!r}; use one of {', '.join(RELATIONS)}")
    if (source.label, target.label) != ends:
        raise ValueError(
            f"{relation} goes from {ends[0]} to {ends[1]}, not {source.label} to {target.label}"
        )


def check_properties(properties: Properties | None) -> dict[str, Any]:
    """The properties as a dict, refusing values a Neo4j property cannot hold."""
    checked = dict(properties or {})
    for key, value in checked.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"property name {key!r}: use a letter, then letters, digits or _")
        if value is None:
            continue
        items = list(value) if isinstance(value, list | tuple) else [value]
        kinds = {_KIND.get(type(item)) for item in items}
        if None in kinds or len(kinds) > 1:
            raise ValueError(
                f"property {key!r}: use a string, number or boolean, or a list of one of them"
            )
        if isinstance(value, tuple):
            checked[key] = items
    return checked


def check_node_properties(properties: Properties | None) -> dict[str, Any]:
    """A node's properties, checked: `id` is the node's own and cannot be set."""
    checked = check_properties(properties)
    if "id" in checked:
        raise ValueError("property 'id' is the node's id: it is set by its NodeRef")
    return checked


def check_depth(depth: int) -> int:
    if not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth {depth!r}: use 1 to {MAX_DEPTH}")
    return depth


MAX_DEPTH = 6
"""The deepest neighbourhood asked for at once: bounds a variable-length Cypher match."""
