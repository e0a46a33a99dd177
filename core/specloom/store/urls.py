"""Where the run store lives: the workspace's SQLite file by default, or a URL.

`postgresql://` and `postgres://` get the asyncpg driver, `sqlite:///` aiosqlite.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specloom.store.sql import SqlRunStore

STORE_DIR = ".specloom"
STORE_FILE = "specloom.db"

_ASYNC_SCHEMES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def default_store_url(workspace: Path) -> str:
    """The workspace's own SQLite store, `<workspace>/.specloom/specloom.db`; creates
    the `.specloom` directory."""
    directory = workspace.resolve() / STORE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{directory / STORE_FILE}"


def normalize_url(url: str) -> str:
    """The URL with the async driver for its database; other URLs are returned as given."""
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    async_scheme = _ASYNC_SCHEMES.get(scheme.lower())
    if separator and async_scheme:
        return f"{async_scheme}://{rest}"
    return url


async def open_store(url: str | None, workspace: Path) -> SqlRunStore:
    """The run store at `url` (or the workspace's default), initialised: connected and
    migrated. Raises `StoreUnavailable` when it cannot be reached or opened."""
    from specloom.store.sql import SqlRunStore

    store = SqlRunStore(url or default_store_url(workspace))
    await store.init()
    return store
