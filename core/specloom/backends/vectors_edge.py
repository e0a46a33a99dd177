"""The embedded vector store: Qdrant Edge (`qdrant-edge-py`), in this process.

One Edge shard per collection, under `<directory>/<collection>/`, with Qdrant's
write-ahead log: an upsert is durable when it returns, and a reopened store finds its
points. Shards are searched as they are written (no HNSW index is built: an exact scan
of 20,000 vectors is under 15 ms, and building the index takes about a minute there).

A shard belongs to one process at a time (Edge locks its write-ahead log): a second
process opening it gets `BackendUnavailable` ("in use by another process").

The shard's calls are synchronous; they run in a worker thread so a search does not
hold up the event loop. `qdrant_edge` is imported by `open()`, in the caller's thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specloom.backends.errors import BackendUnavailable
from specloom.backends.vectors import (
    Filter,
    UnknownCollection,
    VectorHit,
    VectorPoint,
    check_collection,
    hit,
    point_uuid,
    stored_payload,
)

if TYPE_CHECKING:
    import qdrant_edge
    from qdrant_edge import EdgeShard

CONFIG_FILE = "edge_config.json"


class EdgeVectors:
    """Vectors in Qdrant Edge shards under `directory`."""

    name = "qdrant-edge"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._shards: dict[str, EdgeShard] = {}

    @classmethod
    def open(cls, directory: Path) -> EdgeVectors:
        """The store in `directory` (created if missing)."""
        import qdrant_edge  # noqa: F401  # here, in the caller's thread: see the module

        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory)

    def __repr__(self) -> str:
        return f"EdgeVectors({str(self.directory)!r})"

    async def ensure(self, collection: str, dim: int, indexed: Sequence[str] = ()) -> None:
        import qdrant_edge as q

        config = q.EdgeConfig(vectors=q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine))
        path = self.directory / check_collection(collection)
        if _exists(path):
            size = _dimension(path)
            if size != dim:
                raise ValueError(f"collection {collection!r} holds vectors of {size} dimensions")
            shard = await self._shard(collection)
        else:
            shard = await _opening(path, asyncio.to_thread(q.EdgeShard.create, str(path), config))
            self._shards[collection] = shard
        for field in indexed:
            operation = q.UpdateOperation.create_field_index(field, q.PayloadSchemaType.Keyword)
            await asyncio.to_thread(shard.update, operation)

    async def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        if not points:
            return
        import qdrant_edge as q

        shard = await self._shard(collection)
        edge_points = [
            q.Point(point_uuid(p.id), [float(x) for x in p.vector], stored_payload(p))
            for p in points
        ]
        await asyncio.to_thread(shard.update, q.UpdateOperation.upsert_points(edge_points))

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        limit: int = 5,
        filter: Filter | None = None,
    ) -> list[VectorHit]:
        import qdrant_edge as q

        shard = await self._shard(collection)
        request = q.QueryRequest(
            limit=limit,
            query=q.Query.Nearest([float(x) for x in vector]),
            with_payload=True,
            filter=_edge_filter(filter),
        )
        found = await asyncio.to_thread(shard.query, request)
        return [hit(point.score, point.payload) for point in found]

    async def delete(self, collection: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        import qdrant_edge as q

        shard = await self._shard(collection)
        operation = q.UpdateOperation.delete_points([point_uuid(i) for i in ids])
        await asyncio.to_thread(shard.update, operation)

    async def count(self, collection: str) -> int:
        import qdrant_edge as q

        shard = await self._shard(collection)
        counted = await asyncio.to_thread(shard.count, q.CountRequest())
        return counted

    async def collections(self) -> list[str]:
        found = {p.name for p in self.directory.iterdir() if _exists(p)}
        return sorted(found | set(self._shards))

    async def close(self) -> None:
        shards, self._shards = self._shards, {}
        for shard in shards.values():
            await asyncio.to_thread(shard.close)

    async def _shard(self, collection: str) -> EdgeShard:
        if collection in self._shards:
            return self._shards[collection]
        path = self.directory / check_collection(collection)
        if not _exists(path):
            raise UnknownCollection(collection)
        import qdrant_edge as q

        shard = await _opening(path, asyncio.to_thread(q.EdgeShard.load, str(path)))
        self._shards[collection] = shard
        return shard


async def _opening(path: Path, opened: Awaitable[EdgeShard]) -> EdgeShard:
    """The shard `opened` gives; a shard another process holds is `BackendUnavailable`."""
    try:
        return await opened
    except Exception as error:
        if "WouldBlock" in str(error):  # the WAL's lock: Edge raises a bare Exception
            raise BackendUnavailable(
                f"vector store unavailable at {path}: in use by another process"
            ) from None
        raise


def _exists(path: Path) -> bool:
    """Whether `path` holds a shard."""
    return path.is_dir() and any(path.iterdir())


def _dimension(path: Path) -> int | None:
    """The size of the vectors of the shard at `path`, from its configuration."""
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        return int(config["vectors"][""]["size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _edge_filter(filter: Filter | None) -> qdrant_edge.Filter | None:
    import qdrant_edge as q

    if not filter:
        return None
    # Filter(must=) takes a list of any kind of condition (a list is invariant)
    must: list[Any] = [
        q.FieldCondition(key=key, match=q.MatchValue(value)) for key, value in filter.items()
    ]
    return q.Filter(must=must)
