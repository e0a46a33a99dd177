"""Fixtures of the code generation tests: generated applications, written once per
session, a shared mypy cache and fresh PostgreSQL databases."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from generated_apps import ADMIN_DSN, DATABASE_PREFIX, EXAMPLES, admin, generate_tree, write_tree


@pytest.fixture(scope="session")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The directory of the application generated from an example spec (cached)."""
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            tree = generate_tree((EXAMPLES / name).read_text(encoding="utf-8"), name)
            made[name] = write_tree(tree, tmp_path_factory.mktemp(name.split(".")[0]))
        return made[name]

    return make


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every generated app: the libraries are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one generated app, dropped afterwards."""
    name = f"{DATABASE_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
    try:
        admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is not reachable at {ADMIN_DSN}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    base, _, _ = ADMIN_DSN.rpartition("/")
    yield f"{base}/{name}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
