"""Insert-or-update as one statement (`INSERT ... ON CONFLICT`), on SQLite and PostgreSQL.

One statement, so concurrent writers of different rows never read-then-write, and two
writers of the same row end with one of their values, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase


def upsert(
    dialect: str,
    model: type[DeclarativeBase],
    keys: Iterable[str],
    update: Iterable[str] = (),
) -> Insert:
    """The statement inserting rows of `model`, or on a conflict on `keys` updating the
    `update` columns from the new row (or doing nothing when there are none).

    Execute it with the row values (one dict, or a list for many rows).
    """
    insert = postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)
    columns = {name: insert.excluded[name] for name in update}
    if not columns:
        return insert.on_conflict_do_nothing(index_elements=list(keys))
    return insert.on_conflict_do_update(index_elements=list(keys), set_=columns)
