"""The async engine for a store URL, with what each backend needs.

SQLite: WAL, a busy timeout, foreign keys on, and our own BEGIN: `BEGIN IMMEDIATE` on
the write engine, so a writing transaction takes the lock up front (and waits for it
under the busy timeout) instead of failing when it upgrades from read to write.
PostgreSQL (asyncpg): a short connect timeout and a ping before a pooled connection
is reused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_S = 10.0
WRITE_OPTION = "specloom_write"
SUPPORTED = ("sqlite", "postgresql")


class UnsupportedDatabase(ValueError):
    """The URL names a database the run store does not support."""


def backend_of(url: str) -> str:
    return make_url(url).get_backend_name()


def create_engine_for(url: str, *, connect_timeout: float) -> AsyncEngine:
    """The engine for `url` (already normalized to an async driver); does not connect."""
    backend = backend_of(url)
    if backend == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        return create_async_engine(
            url, pool_pre_ping=True, connect_args={"timeout": connect_timeout}
        )
    raise UnsupportedDatabase(f"unsupported database {backend!r}; use {' or '.join(SUPPORTED)}")


def writer_of(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) marked for writing transactions."""
    return engine.execution_options(**{WRITE_OPTION: True})


def sqlite_path_problem(url: str) -> str | None:
    """Why the SQLite file of `url` cannot be opened, when its directory is the reason."""
    database = make_url(url).database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database).expanduser().resolve()
    if path.exists():
        return None
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{existing} is not a directory"
    if existing != parent:
        return f"directory {parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    return None


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN, not the sqlite3 module (which would
    # only do so before DML, leaving DDL and reads outside the transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()
        if not mode or str(mode[0]).lower() != "wal":  # set once; it stays with the file
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
