"""The vector store's contract, on every implementation (see conftest.py)."""

from __future__ import annotations

import math

import pytest
from specloom.backends.vectors import UnknownCollection, VectorPoint, VectorStore

from tests.backends.conftest import OpenVectors

DIM = 4


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


POINTS = [
    VectorPoint("task:create-book", unit(1, 0, 0, 0), {"kind": "create", "subject": "Book"}),
    VectorPoint("task:list-books", unit(1, 1, 0, 0), {"kind": "list", "subject": "Book"}),
    VectorPoint("task:create-loan", unit(0, 1, 0, 0), {"kind": "create", "subject": "Loan"}),
    VectorPoint("task:guard", unit(0, 0, 1, 0), {"kind": "guard", "subject": "Loan", "n": 3}),
]


async def filled(store: VectorStore, collection: str) -> VectorStore:
    await store.ensure(collection, DIM, indexed=["kind"])
    await store.upsert(collection, POINTS)
    return store


async def test_search_returns_the_closest_points_first(
    vectors: VectorStore, collection: str
) -> None:
    await filled(vectors, collection)
    hits = await vectors.search(collection, unit(1, 0.2, 0, 0), limit=3)
    assert [h.id for h in hits] == ["task:create-book", "task:list-books", "task:create-loan"]
    assert hits[0].score == pytest.approx(unit(1, 0.2, 0, 0)[0], abs=1e-4)
    assert hits[0].score > hits[1].score > hits[2].score


async def test_search_returns_each_points_payload_as_given(
    vectors: VectorStore, collection: str
) -> None:
    await filled(vectors, collection)
    hits = await vectors.search(collection, unit(0, 0, 1, 0), limit=1)
    assert hits[0].id == "task:guard"
    assert hits[0].payload == {"kind": "guard", "subject": "Loan", "n": 3}


async def test_search_returns_at_most_limit_points(vectors: VectorStore, collection: str) -> None:
    await filled(vectors, collection)
    assert len(await vectors.search(collection, unit(1, 1, 1, 1), limit=2)) == 2
    assert len(await vectors.search(collection, unit(1, 1, 1, 1), limit=10)) == len(POINTS)


async def test_a_filter_keeps_only_points_whose_fields_all_match(
    vectors: VectorStore, collection: str
) -> None:
    await filled(vectors, collection)
    creates = await vectors.search(
        collection, unit(1, 0, 0, 0), limit=10, filter={"kind": "create"}
    )
    assert [h.id for h in creates] == ["task:create-book", "task:create-loan"]
    both = {"kind": "create", "subject": "Loan"}  # `subject` has no index: still exact
    assert [h.id for h in await vectors.search(collection, unit(1, 0, 0, 0), 10, both)] == [
        "task:create-loan"
    ]
    assert await vectors.search(collection, unit(1, 0, 0, 0), 10, {"kind": "none"}) == []
    assert [h.id for h in await vectors.search(collection, unit(1, 0, 0, 0), 10, {"n": 3})] == [
        "task:guard"
    ]


async def test_upserting_an_existing_id_replaces_the_point(
    vectors: VectorStore, collection: str
) -> None:
    await filled(vectors, collection)
    await vectors.upsert(
        collection, [VectorPoint("task:guard", unit(0, 0, 0, 1), {"kind": "guard", "v": 2})]
    )
    assert await vectors.count(collection) == len(POINTS)
    hits = await vectors.search(collection, unit(0, 0, 0, 1), limit=1)
    assert (hits[0].id, hits[0].payload) == ("task:guard", {"kind": "guard", "v": 2})


async def test_deleted_points_are_no_longer_found(vectors: VectorStore, collection: str) -> None:
    await filled(vectors, collection)
    await vectors.delete(collection, ["task:create-book", "task:never-stored"])
    assert await vectors.count(collection) == len(POINTS) - 1
    hits = await vectors.search(collection, unit(1, 0, 0, 0), limit=10)
    assert "task:create-book" not in {h.id for h in hits}


async def test_an_unknown_collection_is_an_error(vectors: VectorStore, collection: str) -> None:
    with pytest.raises(UnknownCollection):
        await vectors.search(collection, unit(1, 0, 0, 0))
    with pytest.raises(UnknownCollection):
        await vectors.count(collection)


async def test_ensure_keeps_an_existing_collection_and_refuses_another_size(
    vectors: VectorStore, collection: str
) -> None:
    await filled(vectors, collection)
    await vectors.ensure(collection, DIM, indexed=["kind"])
    assert await vectors.count(collection) == len(POINTS)
    assert collection in await vectors.collections()
    with pytest.raises(ValueError, match="dimensions"):
        await vectors.ensure(collection, DIM + 1)


async def test_the_id_payload_field_is_reserved(vectors: VectorStore, collection: str) -> None:
    await vectors.ensure(collection, DIM)
    with pytest.raises(ValueError, match="reserved"):
        await vectors.upsert(collection, [VectorPoint("a", unit(1, 0, 0, 0), {"_id": "b"})])


async def test_points_survive_closing_and_reopening_the_store(
    open_vectors: OpenVectors, collection: str
) -> None:
    store = await filled(await open_vectors(), collection)
    await store.close()
    reopened = await open_vectors()
    assert await reopened.count(collection) == len(POINTS)
    hits = await reopened.search(collection, unit(0, 1, 0, 0), limit=1, filter={"kind": "create"})
    assert [h.id for h in hits] == ["task:create-loan"]
