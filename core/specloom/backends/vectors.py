"""The pattern bank's vectors: one interface, `VectorStore`, two implementations.

- `EdgeVectors` (`vectors_edge.py`), the embedded default: Qdrant Edge
  (`qdrant-edge-py`), Qdrant's storage engine running in this process, one shard per
  collection under `<workspace>/.specloom/vectors/<collection>/`.
- `QdrantVectors` (`vectors_qdrant.py`): `qdrant_client.AsyncQdrantClient`, on a Qdrant
  server by URL (`SPECLOOM_VECTOR_URL=http://host:6333`), or in qdrant-client's own
  local mode (`:memory:` or a directory), which runs the same code without a server.

Why Edge is the default: at 20,000 384-dimension vectors it answers a search (limit 5)
in about 4 ms at the median and 4 to 12 ms at the 95th percentile (across runs on a
loaded 2-CPU machine), where qdrant-client's local mode, a Python scan, takes 90 to 160
ms (`python -m bench retrieval`).

Ids are strings (a pattern's key, such as a signature hash). Qdrant accepts only
integers and UUIDs, so a point's Qdrant id is the UUID 5 of the string, and the
string itself travels in the payload under `_id`, taken out again on the way back.
A filter is a dict of payload field to value: a point matches when each field equals
its value (an exact match on a string, integer or boolean). Fields named in
`ensure(..., indexed=)` get a keyword index, which a filtered search needs to stay fast.
Scores are cosine similarities: higher is closer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ID_FIELD = "_id"
"""The payload field holding a point's own (string) id."""

_ID_NAMESPACE = uuid.UUID("6f1d7c1e-4b7a-5e0c-9a41-3c2f5d0b8e17")

FilterValue = str | int | bool
Filter = Mapping[str, FilterValue]


@dataclass(frozen=True)
class VectorPoint:
    """A vector to store: its id, the vector, and the payload returned with it."""

    id: str
    vector: Sequence[float]
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class VectorHit:
    """One search result: the point's id, its score (higher is closer) and payload."""

    id: str
    score: float
    payload: dict[str, Any]


class VectorStore(Protocol):
    """Collections of vectors with payloads, searched by cosine similarity."""

    name: str
    """Which implementation (`qdrant-edge`, `qdrant-local`, `qdrant`), for messages."""

    async def ensure(self, collection: str, dim: int, indexed: Sequence[str] = ()) -> None:
        """Create the collection for vectors of `dim` dimensions unless it exists, and
        index the payload fields `indexed` (keywords) for filters."""

    async def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        """Insert the points, replacing those with the same ids."""

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        limit: int = 5,
        filter: Filter | None = None,
    ) -> list[VectorHit]:
        """The `limit` closest points matching `filter`, closest first."""
        ...

    async def delete(self, collection: str, ids: Sequence[str]) -> None:
        """Remove the points with these ids (unknown ids are ignored)."""

    async def count(self, collection: str) -> int:
        """How many points the collection holds."""
        ...

    async def collections(self) -> list[str]:
        """The collections there are, sorted."""
        ...

    async def close(self) -> None:
        """Release the store: every write before it is durable."""


def point_uuid(point_id: str) -> str:
    """The Qdrant id of a point: the UUID 5 of its string id."""
    return str(uuid.uuid5(_ID_NAMESPACE, point_id))


def stored_payload(point: VectorPoint) -> dict[str, Any]:
    """The payload as stored: the point's own, with its id under `ID_FIELD`."""
    if ID_FIELD in point.payload:
        raise ValueError(f"payload field {ID_FIELD!r} is reserved for the point's id")
    return {**point.payload, ID_FIELD: point.id}


def hit(score: float, payload: Mapping[str, Any] | None) -> VectorHit:
    """A search result from a stored payload."""
    fields = dict(payload or {})
    point_id = str(fields.pop(ID_FIELD, ""))
    return VectorHit(id=point_id, score=float(score), payload=fields)


def check_collection(name: str) -> str:
    """`name`, if it can name a collection (and a directory): letters, digits, `-`, `_`."""
    if not name or not all(c.isalnum() or c in "-_" for c in name) or not name.isascii():
        raise ValueError(f"collection name {name!r}: use letters, digits, '-' and '_'")
    return name


class UnknownCollection(KeyError):
    """The collection does not exist: `ensure` it first."""
