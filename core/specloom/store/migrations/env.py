"""Alembic environment of the run store.

Runs on the connection handed in through `config.attributes["connection"]` (see
`specloom.store.migrate`), inside the caller's transaction; or, in offline mode, renders
SQL for the URL in the `sqlalchemy.url` option.
"""

from __future__ import annotations

from alembic import context
from specloom.store.migrate import VERSION_TABLE
from specloom.store.tables import Base


def run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "the run store's migrations run on a connection passed in "
            "config.attributes['connection']; use specloom.store.migrate"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline(context.config.get_main_option("sqlalchemy.url") or "")
else:
    run_online()
