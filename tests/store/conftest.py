"""Fixtures of the run store's contract tests: the same tests on SQLite and PostgreSQL.

PostgreSQL: a database named for its creation time and a random part is created for
the session (as user `postgres` on the `postgres` database, or the admin DSN in
SPECLOOM_TEST_POSTGRES) and dropped at the end; ones over 6 hours old, left by killed
sessions, are dropped first. Each test starts from an empty schema. When PostgreSQL
cannot be reached its tests are skipped, except in CI (env CI set), where they fail.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from specloom.store.sql import SqlRunStore

ADMIN_DSN = os.environ.get(
    "SPECLOOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]
DATABASE_PREFIX = "specloom_test_"
STALE_AFTER_S = 6 * 3600


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=3)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run `coroutine` in a thread and event loop of its own: session fixtures may be
    set up while a test's event loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def _database_dsn(name: str) -> str:
    base, _, _ = ADMIN_DSN.rpartition("/")
    return f"{base}/{name}"


async def _drop_stale_databases() -> None:
    """Drop test databases left by sessions that were killed before their teardown
    (their name holds their creation time)."""
    connection = await asyncpg.connect(ADMIN_DSN, timeout=3)
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{DATABASE_PREFIX}%"
        )
        for (name,) in names:
            created = name.removeprefix(DATABASE_PREFIX).partition("_")[0]
            if created.isdigit() and time.time() - int(created) > STALE_AFTER_S:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The DSN of a fresh PostgreSQL database, dropped after the session."""
    name = f"{DATABASE_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
    try:
        _run_apart(_drop_stale_databases())
        _run_apart(_execute(ADMIN_DSN, f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL is not reachable at {ADMIN_DSN}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield _database_dsn(name)
    _run_apart(_execute(ADMIN_DSN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def postgres_url(postgres_dsn: str) -> str:
    """The session's PostgreSQL database, emptied (no tables yet)."""
    await _execute(postgres_dsn, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    return postgres_dsn


@pytest.fixture
def postgres_admin(postgres_dsn: str) -> Callable[..., Awaitable[None]]:
    """Runs statements as the administrator, on the `postgres` database."""
    return functools.partial(_execute, ADMIN_DSN)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database (no tables yet) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlRunStore]:
    """An initialised (migrated) store on an empty database."""
    opened = SqlRunStore(store_url)
    await opened.init()
    yield opened
    await opened.close()
