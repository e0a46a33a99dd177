"""The run store: runs, plans, tasks, validation results, audit, and the language
model's usage per call (`llm_usage`).

`open_store(url, workspace)` gives a ready `SqlRunStore`: SQLite under the workspace's
`.specloom/` by default, PostgreSQL when the URL says so. Code that only needs the
interface should import `RunStore` from `specloom.store.base`.
"""

from specloom.store.audit import AuditEntry
from specloom.store.base import LLMUsageLog, RunStore, StoreUnavailable
from specloom.store.sql import SqlRunStore
from specloom.store.urls import default_store_url, normalize_url, open_store
from specloom.store.usage import LLMUsageRecord, LLMUsageTotals

__all__ = [
    "AuditEntry",
    "LLMUsageLog",
    "LLMUsageRecord",
    "LLMUsageTotals",
    "RunStore",
    "SqlRunStore",
    "StoreUnavailable",
    "default_store_url",
    "normalize_url",
    "open_store",
]
