"""The run store: runs, plans, tasks, validation results, audit and usage.

`open_store(url, workspace)` gives a ready `SqlRunStore`: SQLite under the workspace's
`.specloom/` by default, PostgreSQL when the URL says so. Code that only needs the
interface should import `RunStore` from `specloom.store.base`.
"""

from specloom.store.audit import AuditEntry
from specloom.store.base import RunStore, StoreUnavailable
from specloom.store.sql import SqlRunStore
from specloom.store.urls import default_store_url, normalize_url, open_store

__all__ = [
    "AuditEntry",
    "RunStore",
    "SqlRunStore",
    "StoreUnavailable",
    "default_store_url",
    "normalize_url",
    "open_store",
]
