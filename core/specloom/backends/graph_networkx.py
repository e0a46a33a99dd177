"""The embedded graph: a networkx `MultiDiGraph`, saved to a JSON file.

Nodes are keyed `Label:id` and carry their label, id and properties; a relation is an
edge whose key is its type, so there is one of each type between two nodes. `flush()`
(and `close()`) write the whole graph with networkx's node-link format to a temporary
file that then replaces the old one: a crash leaves the previous graph or the new one,
never half of one. Writes between flushes live in memory only.

One process owns the file at a time: two processes writing the same workspace's graph
keep the last one's writes (runs in a workspace are one at a time, `pipeline/lock.py`).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from specloom.backends.graph import (
    Direction,
    Neighbour,
    NodeRef,
    Properties,
    check_depth,
    check_node_properties,
    check_properties,
    check_relation,
    merge_properties,
)

FORMAT = 1
"""The version of the file's layout, saved with it."""
_LINK_NAMES = {"edges": "edges", "name": "node"}
"""node-link field names: a node's key goes under `node` (its attribute `id` is ours)."""


class NetworkxGraph:
    """The graph in memory, persisted to `path` (None: in memory only)."""

    name = "networkx"

    def __init__(self, path: Path | None = None, graph: nx.MultiDiGraph[str] | None = None):
        self.path = path
        self.graph: nx.MultiDiGraph[str] = graph if graph is not None else nx.MultiDiGraph()
        self._dirty = False

    @classmethod
    def open(cls, path: Path | None) -> NetworkxGraph:
        """The graph saved at `path`, or an empty one when there is no file yet."""
        if path is None or not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        graph = nx.node_link_graph(data["graph"], directed=True, multigraph=True, **_LINK_NAMES)
        if not isinstance(graph, nx.MultiDiGraph):
            raise ValueError(f"{path} does not hold a directed multigraph")
        return cls(path, graph)

    def __repr__(self) -> str:
        return f"NetworkxGraph({str(self.path) if self.path else ':memory:'!r})"

    async def merge_node(self, node: NodeRef, properties: Properties | None = None) -> None:
        checked = check_node_properties(properties)
        merge_properties(self._node(node)["properties"], checked)
        self._dirty = True

    async def merge_relation(
        self,
        source: NodeRef,
        relation: str,
        target: NodeRef,
        properties: Properties | None = None,
    ) -> None:
        check_relation(source, relation, target)
        checked = check_properties(properties)
        self._node(source)
        self._node(target)
        ends = (str(source), str(target))
        if not self.graph.has_edge(*ends, key=relation):
            self.graph.add_edge(*ends, key=relation, properties={})
        merge_properties(self.graph.edges[(*ends, relation)]["properties"], checked)
        self._dirty = True

    async def get_node(self, node: NodeRef) -> dict[str, Any] | None:
        attributes = self.graph.nodes.get(str(node))
        return None if attributes is None else dict(attributes["properties"])

    async def relation(
        self, source: NodeRef, relation: str, target: NodeRef
    ) -> dict[str, Any] | None:
        ends = (str(source), str(target))
        if not self.graph.has_edge(*ends, key=relation):
            return None
        return dict(self.graph.edges[(*ends, relation)]["properties"])

    async def neighbours(
        self,
        node: NodeRef,
        depth: int = 1,
        relations: Sequence[str] | None = None,
        direction: Direction = "both",
    ) -> list[Neighbour]:
        check_depth(depth)
        start = str(node)
        if start not in self.graph:
            return []
        wanted = None if relations is None else set(relations)
        distances = {start: 0}
        frontier = [start]
        for distance in range(1, depth + 1):
            reached: list[str] = []
            for current in frontier:
                for other in self._adjacent(current, wanted, direction):
                    if other not in distances:
                        distances[other] = distance
                        reached.append(other)
            frontier = reached
        found = [
            Neighbour(self._ref(key), distance, dict(self.graph.nodes[key]["properties"]))
            for key, distance in distances.items()
            if key != start
        ]
        return sorted(found, key=lambda n: (n.distance, n.node))

    async def delete_node(self, node: NodeRef) -> None:
        if str(node) in self.graph:
            self.graph.remove_node(str(node))
            self._dirty = True

    async def count(self, label: str | None = None) -> int:
        if label is None:
            return int(self.graph.number_of_nodes())
        labels: dict[str, str] = nx.get_node_attributes(self.graph, "label")
        return sum(1 for found in labels.values() if found == label)

    async def flush(self) -> None:
        if self.path is None or not self._dirty:
            return
        data = {"format": FORMAT, "graph": nx.node_link_data(self.graph, **_LINK_NAMES)}
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        await asyncio.to_thread(_write_atomically, self.path, text)
        self._dirty = False

    async def close(self) -> None:
        await self.flush()

    def _node(self, node: NodeRef) -> dict[str, Any]:
        key = str(node)
        if key not in self.graph:
            self.graph.add_node(key, label=node.label, id=node.id, properties={})
        attributes: dict[str, Any] = self.graph.nodes[key]
        return attributes

    def _ref(self, key: str) -> NodeRef:
        attributes = self.graph.nodes[key]
        return NodeRef(attributes["label"], attributes["id"])

    def _adjacent(self, key: str, wanted: set[str] | None, direction: Direction) -> list[str]:
        found: list[str] = []
        if direction in ("out", "both"):
            for _, other, relation in self.graph.out_edges(key, keys=True):
                if wanted is None or relation in wanted:
                    found.append(other)
        if direction in ("in", "both"):
            for other, _, relation in self.graph.in_edges(key, keys=True):
                if wanted is None or relation in wanted:
                    found.append(other)
        return found


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
