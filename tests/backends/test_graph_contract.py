"""The graph store's contract, on every implementation (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from specloom.backends.graph import GraphStore, NodeRef

from tests.backends.conftest import OpenGraph

MakeNode = Callable[[str, str], NodeRef]


@pytest.fixture
def n(node_prefix: str) -> MakeNode:
    """Makes the test's own nodes: n("Task", "create-book")."""

    def make(label: str, key: str) -> NodeRef:
        return NodeRef(label, node_prefix + key)

    return make


async def plan(graph: GraphStore, n: MakeNode) -> None:
    """Two tasks (the list depends on the create), their patterns, requirements, run:

    (P1)-IMPLEMENTS->(create)-SATISFIES->(F1)      (P1)-FROM_RUN->(run)
    (P2)-IMPLEMENTS->(list)-DEPENDS_ON->(create)   (list)-SATISFIES->(F2)
    """
    await graph.merge_relation(n("Pattern", "p1"), "IMPLEMENTS", n("Task", "create"))
    await graph.merge_relation(n("Pattern", "p2"), "IMPLEMENTS", n("Task", "list"))
    await graph.merge_relation(n("Task", "create"), "SATISFIES", n("Requirement", "F1"))
    await graph.merge_relation(n("Task", "list"), "SATISFIES", n("Requirement", "F2"))
    await graph.merge_relation(n("Task", "list"), "DEPENDS_ON", n("Task", "create"))
    await graph.merge_relation(n("Pattern", "p1"), "FROM_RUN", n("Run", "r1"))


async def test_merging_a_node_again_updates_its_properties(graph: GraphStore, n: MakeNode) -> None:
    node = n("Pattern", "p1")
    await graph.merge_node(node, {"kind": "create", "uses": 1, "tags": ["a", "b"]})
    await graph.merge_node(node, {"uses": 2, "tags": None})
    assert await graph.get_node(node) == {"kind": "create", "uses": 2}
    assert await graph.get_node(n("Pattern", "unknown")) is None


async def test_a_relation_creates_its_end_nodes_once(graph: GraphStore, n: MakeNode) -> None:
    before = await graph.count()
    await graph.merge_node(n("Pattern", "p1"), {"kind": "create"})
    await graph.merge_relation(n("Pattern", "p1"), "IMPLEMENTS", n("Task", "t1"), {"wins": 1})
    await graph.merge_relation(n("Pattern", "p1"), "IMPLEMENTS", n("Task", "t1"), {"losses": 0})
    assert await graph.count() == before + 2
    assert await graph.get_node(n("Pattern", "p1")) == {"kind": "create"}
    assert await graph.get_node(n("Task", "t1")) == {}
    found = await graph.relation(n("Pattern", "p1"), "IMPLEMENTS", n("Task", "t1"))
    assert found == {"wins": 1, "losses": 0}
    assert await graph.relation(n("Pattern", "p1"), "FROM_RUN", n("Run", "r1")) is None


async def test_neighbours_at_depth_one_are_the_adjacent_nodes(
    graph: GraphStore, n: MakeNode
) -> None:
    await plan(graph, n)
    found = await graph.neighbours(n("Task", "create"))
    assert [(x.node, x.distance) for x in found] == [
        (n("Pattern", "p1"), 1),
        (n("Requirement", "F1"), 1),
        (n("Task", "list"), 1),
    ]


async def test_neighbours_follow_only_the_relations_and_direction_asked(
    graph: GraphStore,
    n: MakeNode,
) -> None:
    await plan(graph, n)
    patterns = await graph.neighbours(n("Task", "create"), relations=["IMPLEMENTS"])
    assert [x.node for x in patterns] == [n("Pattern", "p1")]
    outgoing = await graph.neighbours(n("Task", "list"), direction="out")
    assert [x.node for x in outgoing] == [n("Requirement", "F2"), n("Task", "create")]
    incoming = await graph.neighbours(n("Task", "list"), direction="in")
    assert [x.node for x in incoming] == [n("Pattern", "p2")]


async def test_deeper_neighbourhoods_give_each_node_its_shortest_distance(
    graph: GraphStore,
    n: MakeNode,
) -> None:
    await plan(graph, n)
    await graph.merge_node(n("Requirement", "F1"), {"text": "create a book"})
    found = await graph.neighbours(n("Pattern", "p2"), depth=3, direction="out")
    assert [(x.node, x.distance) for x in found] == [
        (n("Task", "list"), 1),
        (n("Requirement", "F2"), 2),
        (n("Task", "create"), 2),
        (n("Requirement", "F1"), 3),
    ]
    assert found[-1].properties == {"text": "create a book"}
    everything = await graph.neighbours(n("Pattern", "p2"), depth=4)
    assert {x.node for x in everything} == {
        n("Task", "list"),
        n("Task", "create"),
        n("Requirement", "F1"),
        n("Requirement", "F2"),
        n("Pattern", "p1"),
        n("Run", "r1"),
    }


async def test_deleting_a_node_removes_its_relations(graph: GraphStore, n: MakeNode) -> None:
    await plan(graph, n)
    await graph.delete_node(n("Task", "create"))
    await graph.delete_node(n("Task", "never-made"))
    assert await graph.get_node(n("Task", "create")) is None
    assert await graph.neighbours(n("Pattern", "p1"), relations=["IMPLEMENTS"]) == []
    assert await graph.neighbours(n("Task", "create")) == []


async def test_count_by_label(graph: GraphStore, n: MakeNode) -> None:
    before = {label: await graph.count(label) for label in ("Pattern", "Task", "Run")}
    await plan(graph, n)
    assert await graph.count("Pattern") == before["Pattern"] + 2
    assert await graph.count("Task") == before["Task"] + 2
    assert await graph.count("Run") == before["Run"] + 1


async def test_the_schema_refuses_unknown_labels_relations_and_values(
    graph: GraphStore,
    n: MakeNode,
) -> None:
    with pytest.raises(ValueError, match="label"):
        n("Spec", "s1")
    with pytest.raises(ValueError, match="IMPLEMENTS goes from Pattern to Task"):
        await graph.merge_relation(n("Task", "t"), "IMPLEMENTS", n("Pattern", "p"))
    with pytest.raises(ValueError, match="unknown relation"):
        await graph.merge_relation(n("Task", "t"), "USES", n("Task", "u"))
    with pytest.raises(ValueError, match="property 'code'"):
        await graph.merge_node(n("Pattern", "p"), {"code": {"nested": "map"}})
    with pytest.raises(ValueError, match="property 'mixed'"):
        await graph.merge_node(n("Pattern", "p"), {"mixed": [1, "a"]})
    with pytest.raises(ValueError, match="'id'"):
        await graph.merge_node(n("Pattern", "p"), {"id": "other"})
    assert await graph.get_node(n("Pattern", "p")) is None


async def test_the_graph_survives_closing_and_reopening(open_graph: OpenGraph, n: MakeNode) -> None:
    graph = await open_graph()
    await plan(graph, n)
    await graph.merge_node(n("Pattern", "p1"), {"uses": 3})
    await graph.close()
    reopened = await open_graph()
    assert await reopened.get_node(n("Pattern", "p1")) == {"uses": 3}
    found = await reopened.neighbours(n("Task", "list"), direction="out")
    assert [x.node for x in found] == [n("Requirement", "F2"), n("Task", "create")]
