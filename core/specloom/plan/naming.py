"""Where each part of the generated application lives, and what it is called.

One place for the layout conventions, so the planner, the atomizer and code
generation agree on every module path and symbol: `Book` is the model
`app.models.book.Book`, endpoint F8 the handler `app.routers.loan.f8_borrow_a_book`.
Names come from the spec's own words (entity names, IDs, summaries, flow names).
"""

from __future__ import annotations

import keyword
import re
from functools import lru_cache

from specloom.ir.api import Endpoint
from specloom.ir.behaviour import Flow, Rule
from specloom.spec.names import snake

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_SUMMARY_WORDS = 6

# The application shell and the infrastructure files.
DATABASE_BASE = "app.database.Base"
DATABASE_ENGINE = "app.database.engine"
DATABASE_SESSION = "app.database.get_session"
ERROR_CLASS = "app.errors.AppError"
ERROR_HANDLERS = "app.errors.register_error_handlers"
MAIN_APP = "app.main.app"
TEST_CLIENT = "tests.conftest.client"
REQUIREMENTS_FILE = "requirements.txt"
DOCKERFILE = "Dockerfile"
COMPOSE_FILE = "compose.yaml"
README_FILE = "README.md"
APP_PACKAGES = ("models", "schemas", "repositories", "routers", "services", "rules")


@lru_cache(maxsize=16384)
def identifier(text: str, limit: int | None = None) -> str:
    """A Python identifier from spec words: `F1.create` -> `f1_create`,
    `the member's loans` -> `the_members_loans`. `limit` keeps that many words."""
    words = [word for word in _NOT_WORD.split(snake(text.replace("'", ""))) if word]
    if limit is not None:
        words = words[:limit]
    name = "_".join(words) or "unnamed"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "n_" + name if name[0].isdigit() else name + "_"
    return name


def pascal(text: str) -> str:
    """`Borrow a book` -> `BorrowABook`."""
    return "".join(word.capitalize() for word in identifier(text).split("_"))


def module_file(module: str) -> str:
    """`app.models.book` -> `app/models/book.py`."""
    return module.replace(".", "/") + ".py"


# --- entities --------------------------------------------------------------------


def model_module(entity: str) -> str:
    return f"app.models.{snake(entity)}"


def model_symbol(entity: str) -> str:
    return f"{model_module(entity)}.{entity}"


def schemas_module(entity: str) -> str:
    return f"app.schemas.{snake(entity)}"


def schema_symbols(entity: str) -> dict[str, str]:
    """The create, update, read and page (list answer) schemas of an entity."""
    module = schemas_module(entity)
    return {part: f"{module}.{entity}{part}" for part in ("Create", "Update", "Read", "Page")}


def read_schema(entity: str) -> str:
    return schema_symbols(entity)["Read"]


def repository_module(entity: str) -> str:
    return f"app.repositories.{snake(entity)}"


def repository_symbol(entity: str) -> str:
    return f"{repository_module(entity)}.{entity}Repository"


# --- endpoints, flows and rules ------------------------------------------------------


def router_module(entity: str) -> str:
    """One router per resource entity, shared by its endpoints."""
    return f"app.routers.{snake(entity)}"


def router_symbol(entity: str) -> str:
    return f"{router_module(entity)}.router"


def handler_name(endpoint: Endpoint) -> str:
    """`F8` borrow a book -> `f8_borrow_a_book`; CRUD `F1.create` -> `f1_create_a_product`;
    a derived `GET /books` without a summary -> `get_books`."""
    if endpoint.crud_group and endpoint.summary:
        name = identifier(endpoint.crud_group)
    else:
        name = identifier(endpoint.id)
    if endpoint.summary:
        name += "_" + identifier(endpoint.summary, limit=_SUMMARY_WORDS)
    return name


def handler_symbol(endpoint: Endpoint) -> str:
    return f"{router_module(endpoint.entity)}.{handler_name(endpoint)}"


def service_name(flow: Flow) -> str:
    """`F8. Borrow a book` -> `f8_borrow_a_book`; a flow linked by its title keeps the title."""
    if flow.explicit_id:
        return f"{identifier(flow.id)}_{identifier(flow.name)}"
    return identifier(flow.name)


def service_module(flow: Flow) -> str:
    return f"app.services.{service_name(flow)}"


def service_symbol(flow: Flow) -> str:
    return f"{service_module(flow)}.{identifier(flow.name)}"


def flow_input_symbol(flow: Flow) -> str:
    return f"{service_module(flow)}.{pascal(flow.name)}Input"


def rules_module(entity: str) -> str:
    return f"app.rules.{snake(entity)}"


def rule_symbol(rule: Rule) -> str:
    return f"{rules_module(rule.body.entity)}.check_{identifier(rule.id)}"


# --- tests -----------------------------------------------------------------------


def entity_tests_module(entity: str) -> str:
    return f"tests.test_{snake(entity)}"


def flow_tests_module(flow: Flow) -> str:
    return f"tests.test_{service_name(flow)}"


RULE_TESTS_MODULE = "tests.test_rules"


def test_symbol(module: str, requirement_id: str) -> str:
    """Tests are named by requirement: `Book.isbn.unique` -> `test_book_isbn_unique`."""
    return f"{module}.test_{identifier(requirement_id)}"
