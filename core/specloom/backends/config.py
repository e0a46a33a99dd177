"""Which store plays each role: embedded unless a URL says otherwise.

- vectors: Qdrant Edge in `<workspace>/.specloom/vectors/`, or a Qdrant server at
  `SPECLOOM_VECTOR_URL` (with `SPECLOOM_VECTOR_API_KEY` when it asks for one);
- graph: networkx in `<workspace>/.specloom/graph.json`, or a Neo4j server at
  `SPECLOOM_GRAPH_URL` (as `SPECLOOM_GRAPH_USER` with `SPECLOOM_GRAPH_PASSWORD`);
- cache, run locks and live run state: in this process, or a Redis server at
  `SPECLOOM_CACHE_URL`.

(The run store, the fourth, is `specloom.store`: `SPECLOOM_STORE_URL`.) When
`qdrant-edge-py` is not installed, the embedded vectors fall back to qdrant-client's
local mode under `<workspace>/.specloom/vectors-local/`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from specloom.backends.cache import Live, MemoryLive
from specloom.backends.graph import GraphStore
from specloom.backends.vectors import VectorStore

STORE_DIR = ".specloom"
"""The workspace's own directory (as `specloom.store.urls.STORE_DIR`, not imported from
there: that would load the run store's SQLAlchemy with this module)."""
VECTORS_DIR = "vectors"
LOCAL_VECTORS_DIR = "vectors-local"
GRAPH_FILE = "graph.json"


@dataclass(frozen=True)
class BackendSettings:
    """The servers to use; None: the embedded store."""

    vector_url: str | None = None
    """The Qdrant server (`SPECLOOM_VECTOR_URL`, such as `http://host:6333`)."""
    vector_api_key: str | None = field(default=None, repr=False)
    """Its API key, when it asks for one (`SPECLOOM_VECTOR_API_KEY`)."""
    graph_url: str | None = None
    """The Neo4j server (`SPECLOOM_GRAPH_URL`, such as `bolt://host:7687`)."""
    graph_user: str | None = None
    """The Neo4j user (`SPECLOOM_GRAPH_USER`)."""
    graph_password: str | None = field(default=None, repr=False)
    """The Neo4j password (`SPECLOOM_GRAPH_PASSWORD`)."""
    cache_url: str | None = None
    """The Redis server (`SPECLOOM_CACHE_URL`, such as `redis://host:6379/0`)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BackendSettings:
        """The settings from the environment (`os.environ` unless given); empty
        variables count as unset."""
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            return env.get(name, "").strip() or None

        return cls(
            vector_url=value("SPECLOOM_VECTOR_URL"),
            vector_api_key=value("SPECLOOM_VECTOR_API_KEY"),
            graph_url=value("SPECLOOM_GRAPH_URL"),
            graph_user=value("SPECLOOM_GRAPH_USER"),
            graph_password=value("SPECLOOM_GRAPH_PASSWORD"),
            cache_url=value("SPECLOOM_CACHE_URL"),
        )


def edge_available() -> bool:
    """Whether Qdrant Edge (`qdrant-edge-py`) is installed."""
    return importlib.util.find_spec("qdrant_edge") is not None


async def open_vectors(workspace: Path, settings: BackendSettings) -> VectorStore:
    """The vector store the settings name (embedded in `workspace` without a URL)."""
    if settings.vector_url:
        from specloom.backends.vectors_qdrant import QdrantVectors

        return await QdrantVectors.open(settings.vector_url, settings.vector_api_key)
    directory = workspace / STORE_DIR
    if edge_available():
        from specloom.backends.vectors_edge import EdgeVectors

        return EdgeVectors.open(directory / VECTORS_DIR)
    from specloom.backends.vectors_qdrant import QdrantVectors

    return QdrantVectors.local(directory / LOCAL_VECTORS_DIR)


async def open_graph(workspace: Path, settings: BackendSettings) -> GraphStore:
    """The graph store the settings name (embedded in `workspace` without a URL)."""
    if settings.graph_url:
        from specloom.backends.graph_neo4j import Neo4jGraph

        return await Neo4jGraph.open(
            settings.graph_url, settings.graph_user, settings.graph_password
        )
    from specloom.backends.graph_networkx import NetworkxGraph

    return NetworkxGraph.open(workspace / STORE_DIR / GRAPH_FILE)


async def open_live(settings: BackendSettings) -> Live:
    """Cache, run lock and run state: on Redis with a URL, else in this process."""
    if settings.cache_url:
        from specloom.backends.cache_redis import RedisLive

        return await RedisLive.open(settings.cache_url)
    return MemoryLive()


@dataclass
class Backends:
    """The pattern bank's stores, opened together and closed together."""

    vectors: VectorStore
    graph: GraphStore
    live: Live

    @classmethod
    async def open(cls, workspace: Path, settings: BackendSettings | None = None) -> Backends:
        """Every store, as `settings` (the environment's, unless given) say. Raises
        `BackendUnavailable` for the first server that cannot be reached, after closing
        the stores already open."""
        settings = settings or BackendSettings.from_env()
        vectors = await open_vectors(workspace, settings)
        try:
            graph = await open_graph(workspace, settings)
            try:
                live = await open_live(settings)
            except BaseException:
                await graph.close()
                raise
        except BaseException:
            await vectors.close()
            raise
        return cls(vectors, graph, live)

    async def close(self) -> None:
        """Close every store (each one even when another fails to close)."""
        try:
            await self.vectors.close()
        finally:
            try:
                await self.graph.close()
            finally:
                await self.live.close()
