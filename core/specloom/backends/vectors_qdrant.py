"""Vectors through `qdrant_client.AsyncQdrantClient`: a Qdrant server by URL, or the
client's local mode (`:memory:` or a directory) running the same calls in process.

The server is the team's store (`SPECLOOM_VECTOR_URL=http://host:6333`, with
`SPECLOOM_VECTOR_API_KEY` when it asks for one). Local mode is a pure-Python scan, an
order of magnitude slower than Qdrant Edge (`vectors_edge.py`), which is why it is not
the embedded default; the contract tests use it to run this class without a server.
`qdrant_client` is imported by `open()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specloom.backends.errors import mask_url, unavailable
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
    from qdrant_client import AsyncQdrantClient, models

CONNECT_TIMEOUT_S = 5


class QdrantVectors:
    """Vectors through an `AsyncQdrantClient` (server or local mode)."""

    def __init__(self, client: AsyncQdrantClient, where: str, name: str) -> None:
        self.client = client
        self.where = where
        self.name = name
        self._known_collections: set[str] = set()

    @classmethod
    async def open(cls, url: str, api_key: str | None = None) -> QdrantVectors:
        """The Qdrant server at `url`, checked by listing its collections. Raises
        `BackendUnavailable` when it cannot be reached."""
        from qdrant_client import AsyncQdrantClient

        # The version check would warn on stderr about an unreachable server; the
        # request below says so as an error instead.
        try:
            client = AsyncQdrantClient(
                url=url, api_key=api_key, timeout=CONNECT_TIMEOUT_S, check_compatibility=False
            )
        except ValueError as error:  # not a URL the client understands
            raise unavailable("vector store", url, error) from None
        try:
            await client.get_collections()
        except Exception as error:  # httpx, grpc and the client's own errors alike
            await client.close()
            raise unavailable("vector store", url, error) from None
        return cls(client, mask_url(url), "qdrant")

    @classmethod
    def local(cls, path: Path | None = None) -> QdrantVectors:
        """qdrant-client's local mode: in memory, or persisted in `path`."""
        from qdrant_client import AsyncQdrantClient

        if path is None:
            return cls(AsyncQdrantClient(location=":memory:"), ":memory:", "qdrant-local")
        path.mkdir(parents=True, exist_ok=True)
        return cls(AsyncQdrantClient(path=str(path)), str(path), "qdrant-local")

    def __repr__(self) -> str:
        return f"QdrantVectors({self.where!r})"

    async def ensure(self, collection: str, dim: int, indexed: Sequence[str] = ()) -> None:
        from qdrant_client import models

        check_collection(collection)
        if await self.client.collection_exists(collection):
            info = await self.client.get_collection(collection)
            params = info.config.params.vectors
            size = params.size if isinstance(params, models.VectorParams) else None
            if size != dim:
                raise ValueError(f"collection {collection!r} holds vectors of {size} dimensions")
        else:
            await self.client.create_collection(
                collection,
                vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
            )
        if self.name == "qdrant-local":
            return  # local mode has no payload indexes (it says so, as a warning)
        for field in indexed:
            await self.client.create_payload_index(
                collection, field, field_schema=models.PayloadSchemaType.KEYWORD
            )

    async def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        from qdrant_client import models

        if not points:
            return
        await self._known(collection)
        structs = [
            models.PointStruct(
                id=point_uuid(p.id), vector=[float(x) for x in p.vector], payload=stored_payload(p)
            )
            for p in points
        ]
        await self.client.upsert(collection, points=structs, wait=True)

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        limit: int = 5,
        filter: Filter | None = None,
    ) -> list[VectorHit]:
        await self._known(collection)
        found = await self.client.query_points(
            collection,
            query=[float(x) for x in vector],
            limit=limit,
            query_filter=_qdrant_filter(filter),
            with_payload=True,
        )
        return [hit(point.score, point.payload) for point in found.points]

    async def delete(self, collection: str, ids: Sequence[str]) -> None:
        from qdrant_client import models

        if not ids:
            return
        await self._known(collection)
        selector = models.PointIdsList(points=[point_uuid(i) for i in ids])
        await self.client.delete(collection, points_selector=selector, wait=True)

    async def count(self, collection: str) -> int:
        await self._known(collection)
        return (await self.client.count(collection, exact=True)).count

    async def collections(self) -> list[str]:
        listed = await self.client.get_collections()
        return sorted(c.name for c in listed.collections)

    async def close(self) -> None:
        await self.client.close()

    async def _known(self, collection: str) -> None:
        """Raise `UnknownCollection` unless the collection exists (asked once)."""
        if collection in self._known_collections:
            return
        if not await self.client.collection_exists(check_collection(collection)):
            raise UnknownCollection(collection)
        self._known_collections.add(collection)


def _qdrant_filter(filter: Filter | None) -> models.Filter | None:
    from qdrant_client import models

    if not filter:
        return None
    must: list[Any] = [
        models.FieldCondition(key=key, match=models.MatchValue(value=value))
        for key, value in filter.items()
    ]
    return models.Filter(must=must)
