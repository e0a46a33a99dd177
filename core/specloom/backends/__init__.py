"""The pattern bank's stores behind interfaces: vectors, graph, and cache with run
locks and live run state (the run store, the fourth, is `specloom.store`).

Each role has one interface and an embedded implementation used when no URL is
configured; a URL picks the server (`config.py`). Importing this package imports no
driver: `redis`, `neo4j`, `qdrant_client` and `qdrant_edge` are imported when a store
that needs them opens.
"""

from specloom.backends.cache import Cache, Lease, Live, LockBusy, RunLock, RunState
from specloom.backends.config import Backends, BackendSettings
from specloom.backends.errors import BackendUnavailable
from specloom.backends.graph import GraphStore, Neighbour, NodeRef
from specloom.backends.vectors import UnknownCollection, VectorHit, VectorPoint, VectorStore

__all__ = [
    "BackendSettings",
    "BackendUnavailable",
    "Backends",
    "Cache",
    "GraphStore",
    "Lease",
    "Live",
    "LockBusy",
    "Neighbour",
    "NodeRef",
    "RunLock",
    "RunState",
    "UnknownCollection",
    "VectorHit",
    "VectorPoint",
    "VectorStore",
]
