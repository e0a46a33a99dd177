"""`tests/conftest.py` of the generated app: a database per test run (DATABASE_URL when
set, else a SQLite file in a temporary directory) whose tables are made once and
emptied for every test, a client on the app (started once) and a session for arranging
and reading back records."""

from __future__ import annotations

from specloom.ir.application import ApplicationIR

CONFTEST = '''"""Fixtures of the tests of {title}: empty tables for every test, a client on the
application and a database session to arrange records and read them back."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

# Before the application is imported: its engine reads DATABASE_URL once.
_DIRECTORY = tempfile.mkdtemp(prefix="app-tests-")
os.environ.setdefault("DATABASE_URL", "sqlite:///" + os.path.join(_DIRECTORY, "tests.db"))


@pytest.fixture(scope="session")
def tables() -> Iterator[None]:
    """The app's tables, made afresh once for the test run."""
    from app.database import Base, engine
    from app.main import app

    assert app is not None  # importing the app registers every model
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield
    engine.dispose()


@pytest.fixture(autouse=True)
def empty_tables(tables: None) -> Iterator[None]:
    """Every test starts on empty tables (their rows deleted, numbering restarted), and
    its factories number records afresh."""
    from app.database import Base, engine
    from tests import factories

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            if connection.dialect.name == "sqlite":  # foreign keys checked at the end
                connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    factories.forget()
    yield


@pytest.fixture(scope="session")
def running_app(tables: None) -> Iterator[TestClient]:
    """The application, started once for the test run (its lifespan runs once; a
    client per test would start it, and a thread for it, in every test)."""
    from app.main import app

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def client(running_app: TestClient) -> TestClient:
    """A client on the application, with no cookie left by an earlier test."""
    running_app.cookies.clear()
    return running_app


@pytest.fixture
def db() -> Iterator[Session]:
    """A session for arranging records directly and reading back what requests changed."""
    from app.database import SessionLocal

    with SessionLocal() as session:
        yield session
'''


def render_conftest(ir: ApplicationIR) -> str:
    title = (ir.name or "the application").replace('"', "'").replace("\\", "/")
    return CONFTEST.replace("{title}", title)
