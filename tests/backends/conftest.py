"""Fixtures of the stores' contract tests: each suite runs on every implementation.

- Embedded ones always: Qdrant Edge and qdrant-client's local mode (vectors), networkx
  (graph), in-process (cache, lock, run state).
- Redis always: at SPECLOOM_TEST_REDIS (default redis://127.0.0.1:6379/0), each test
  under a key prefix of its own, its keys deleted afterwards. When Redis cannot be
  reached its tests are skipped, except when SPECLOOM_REQUIRE_SERVICES=1 or CI is set,
  where they fail.
- A Qdrant server when SPECLOOM_VECTOR_URL is set, a Neo4j server when
  SPECLOOM_GRAPH_URL is set (with SPECLOOM_GRAPH_USER, SPECLOOM_GRAPH_PASSWORD):
  each test in a collection or under node ids of its own, removed afterwards.
  Skipped, with the reason, otherwise.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from specloom.backends.cache import Live, MemoryLive
from specloom.backends.graph import GraphStore
from specloom.backends.vectors import VectorStore

REDIS_URL = os.environ.get("SPECLOOM_TEST_REDIS", "redis://127.0.0.1:6379/0")
VECTOR_URL = os.environ.get("SPECLOOM_VECTOR_URL", "").strip()
GRAPH_URL = os.environ.get("SPECLOOM_GRAPH_URL", "").strip()


def services_required() -> bool:
    return os.environ.get("SPECLOOM_REQUIRE_SERVICES") == "1" or bool(os.environ.get("CI"))


def unreachable(message: str) -> None:
    """Skip the test for a service that is not there, or fail where it must be."""
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


# --- vectors ------------------------------------------------------------------------

OpenVectors = Callable[[], Awaitable[VectorStore]]


@pytest.fixture(params=["qdrant-edge", "qdrant-local", "qdrant-server"])
async def open_vectors(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[OpenVectors]:
    """Opens the vector store of each implementation, on the same data each time
    (embedded: a directory of the test's own); closes what it opened."""
    opened: list[VectorStore] = []
    kind = request.param

    async def open_() -> VectorStore:
        store: VectorStore
        if kind == "qdrant-edge":
            from specloom.backends.vectors_edge import EdgeVectors

            store = EdgeVectors.open(tmp_path / "vectors")
        elif kind == "qdrant-local":
            from specloom.backends.vectors_qdrant import QdrantVectors

            store = QdrantVectors.local(tmp_path / "vectors-local")
        else:
            from specloom.backends.errors import BackendUnavailable
            from specloom.backends.vectors_qdrant import QdrantVectors

            if not VECTOR_URL:
                pytest.skip("no Qdrant server: set SPECLOOM_VECTOR_URL to test one")
            try:
                store = await QdrantVectors.open(VECTOR_URL)
            except BackendUnavailable as error:
                pytest.fail(str(error))  # configured, so it must be there
        opened.append(store)
        return store

    yield open_
    for store in opened:
        if kind == "qdrant-server":
            for name in await store.collections():
                if name.startswith(_COLLECTION_PREFIX):
                    await store.client.delete_collection(name)  # type: ignore[attr-defined]
        await store.close()


_COLLECTION_PREFIX = "specloom_test_"


@pytest.fixture
def collection() -> str:
    """A collection name of the test's own (a shared server holds others)."""
    return f"{_COLLECTION_PREFIX}{secrets.token_hex(4)}"


@pytest.fixture
async def vectors(open_vectors: OpenVectors) -> VectorStore:
    return await open_vectors()


# --- graph --------------------------------------------------------------------------

OpenGraph = Callable[[], Awaitable[GraphStore]]


@pytest.fixture
def node_prefix() -> str:
    """A prefix for the test's node ids (a shared server holds others)."""
    return f"t{secrets.token_hex(4)}-"


@pytest.fixture(params=["networkx", "neo4j"])
async def open_graph(
    request: pytest.FixtureRequest, tmp_path: Path, node_prefix: str
) -> AsyncIterator[OpenGraph]:
    """Opens the graph store of each implementation on the same data each time."""
    opened: list[GraphStore] = []
    kind = request.param

    async def open_() -> GraphStore:
        store: GraphStore
        if kind == "networkx":
            from specloom.backends.graph_networkx import NetworkxGraph

            store = NetworkxGraph.open(tmp_path / "graph.json")
        else:
            from specloom.backends.errors import BackendUnavailable
            from specloom.backends.graph_neo4j import Neo4jGraph

            if not GRAPH_URL:
                pytest.skip("no Neo4j server: set SPECLOOM_GRAPH_URL to test one")
            try:
                store = await Neo4jGraph.open(
                    GRAPH_URL,
                    os.environ.get("SPECLOOM_GRAPH_USER"),
                    os.environ.get("SPECLOOM_GRAPH_PASSWORD"),
                )
            except BackendUnavailable as error:
                pytest.fail(str(error))
        opened.append(store)
        return store

    yield open_
    for store in opened:
        if kind == "neo4j":
            await store.driver.execute_query(  # type: ignore[attr-defined]
                "MATCH (n) WHERE n.id STARTS WITH $prefix DETACH DELETE n",
                {"prefix": node_prefix},
            )
        await store.close()


@pytest.fixture
async def graph(open_graph: OpenGraph) -> GraphStore:
    return await open_graph()


# --- cache, lock, run state ---------------------------------------------------------

OpenLive = Callable[[], Awaitable[Live]]


@pytest.fixture(params=["memory", "redis"])
async def open_live(request: pytest.FixtureRequest) -> AsyncIterator[OpenLive]:
    """Opens a client of each implementation. On Redis every client of one test shares
    the test's key prefix (so a second client sees the first one's data); in memory
    the first client is returned again (there is nothing to share it with)."""
    kind = request.param
    prefix = f"specloom-test:{secrets.token_hex(4)}:"
    opened: list[Live] = []

    async def open_() -> Live:
        if kind == "memory":
            if not opened:
                opened.append(MemoryLive())
            return opened[0]
        from specloom.backends.cache_redis import RedisLive
        from specloom.backends.errors import BackendUnavailable

        try:
            live = await RedisLive.open(REDIS_URL, prefix=prefix)
        except BackendUnavailable as error:
            unreachable(f"Redis is not reachable: {error}")
        opened.append(live)
        return live

    yield open_
    if kind == "redis" and opened:
        client = opened[0].client  # type: ignore[attr-defined]
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    for live in opened:
        await live.close()


@pytest.fixture
async def live(open_live: OpenLive) -> Live:
    return await open_live()
