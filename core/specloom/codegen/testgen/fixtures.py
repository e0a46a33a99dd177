"""`tests/conftest.py` of the generated app: a database per test run (DATABASE_URL when
set, else a SQLite file in a temporary directory), empty tables for every test, a
client on the app and a session for arranging and reading back records."""

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


@pytest.fixture(autouse=True)
def empty_tables() -> Iterator[None]:
    """Every test starts on empty tables, and its factories number records afresh."""
    from app.database import Base, engine
    from app.main import app
    from tests import factories

    assert app is not None  # importing the app registers every model
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    factories.forget()
    yield
    engine.dispose()


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client on the application."""
    from app.main import app

    with TestClient(app) as test_client:
        yield test_client


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
