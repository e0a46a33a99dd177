"""The run store's schema migrations (Alembic), run in code on a connection we hand in.

No alembic.ini: the `Config` is built here, with `script_location` at the
`migrations/` directory beside this module, and the connection goes to `env.py`
through `config.attributes["connection"]`.

To write a new migration, from the repository root:

    python -c "from specloom.store.migrate import new_revision; new_revision('what')"

(it autogenerates against an empty SQLite database brought to head; review the file,
then `ruff check --fix` and `ruff format` it).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "specloom_alembic_version"

# Alembic keeps the running migration in module globals (`alembic.context`, `op`), so
# two migrations must never interleave in one process, whether in one event loop or in
# threads. The database serializes migrations between processes.
_RUNNING = threading.Lock()
_POLL_S = 0.01


@contextlib.asynccontextmanager
async def exclusive() -> AsyncIterator[None]:
    """Hold the process-wide migration lock (polled, so waiting never blocks the loop
    and a cancelled waiter leaves nothing held)."""
    while not _RUNNING.acquire(blocking=False):
        await asyncio.sleep(_POLL_S)
    try:
        yield
    finally:
        _RUNNING.release()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Bring the schema on `connection` to the newest revision (a no-op when it is)."""
    command.upgrade(alembic_config(connection), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def new_revision(message: str) -> None:
    """Autogenerate the next migration (`000N_slug.py`) from the models' difference to head."""
    head = head_revision()
    rev_id = f"{int(head) + 1:04d}" if head and head.isdigit() else None
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/head.db")
        with engine.begin() as connection:
            upgrade(connection)
            config = alembic_config(connection)
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()
