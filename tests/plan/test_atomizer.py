"""Phase 4: what each task produces (files and symbols) and what it needs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from specloom.ir.application import ApplicationIR
from specloom.plan.atomizer import atomize
from specloom.plan.model import AtomicSpec, Task
from specloom.plan.naming import identifier
from specloom.plan.planner import plan_tasks

CompileOk = Callable[[str], ApplicationIR]


def atomized(ir: ApplicationIR) -> dict[str, Task]:
    return {task.id: task for task in atomize(ir, plan_tasks(ir))}


def spec_of(task: Task) -> AtomicSpec:
    assert task.atomic is not None, task.id
    return task.atomic


def files(task: Task) -> dict[str, list[str]]:
    return {produced.path: produced.symbols for produced in spec_of(task).produces}


@pytest.fixture(scope="module")
def library_tasks(library: ApplicationIR) -> dict[str, Task]:
    return atomized(library)


def test_every_task_gets_an_atomic_spec_implementing_its_requirements(
    library_tasks: dict[str, Task],
) -> None:
    for task in library_tasks.values():
        assert spec_of(task).implements == task.requirement_ids
        assert spec_of(task).produces, task.id


def test_atomize_keeps_the_tasks_and_their_order(library: ApplicationIR) -> None:
    tasks = plan_tasks(library)
    done = atomize(library, tasks)
    assert [task.id for task in done] == [task.id for task in tasks]
    assert [task.signature_hash for task in done] == [task.signature_hash for task in tasks]
    assert all(task.atomic is None for task in tasks)


def test_the_needs_and_outputs_are_the_signatures_inputs_and_outputs(
    library_tasks: dict[str, Task],
) -> None:
    for task in library_tasks.values():
        produced = [symbol for item in spec_of(task).produces for symbol in item.symbols]
        assert task.signature.inputs == spec_of(task).needs, task.id
        assert task.signature.outputs == produced, task.id


def test_an_entity_gives_a_model_schemas_and_a_repository(
    library_tasks: dict[str, Task],
) -> None:
    model = library_tasks["model:Book"]
    assert files(model) == {"app/models/book.py": ["app.models.book.Book"]}
    assert spec_of(model).needs == ["app.database.Base"]
    schemas = library_tasks["schemas:Book"]
    assert files(schemas) == {
        "app/schemas/book.py": [
            "app.schemas.book.BookCreate",
            "app.schemas.book.BookUpdate",
            "app.schemas.book.BookRead",
            "app.schemas.book.BookPage",
        ]
    }
    repository = library_tasks["repository:Book"]
    assert files(repository) == {
        "app/repositories/book.py": ["app.repositories.book.BookRepository"]
    }
    assert "app.models.book.Book" in spec_of(repository).needs


def test_schemas_of_an_entity_with_a_collection_need_the_childrens_read_schema(
    shop: ApplicationIR,
) -> None:
    tasks = atomized(shop)
    assert spec_of(tasks["schemas:Order"]).needs == ["app.schemas.order_line.OrderLineRead"]
    assert spec_of(tasks["schemas:Product"]).needs == []


def test_models_need_no_other_model_in_any_example(examples: dict[str, ApplicationIR]) -> None:
    for name, ir in examples.items():
        for task in atomized(ir).values():
            if task.kind == "model":
                assert spec_of(task).needs == ["app.database.Base"], (name, task.id)


def test_endpoints_of_one_entity_share_its_router_file(library_tasks: dict[str, Task]) -> None:
    loan_endpoints = ["endpoint:F8", "endpoint:F9", "endpoint:F10"]
    handlers = []
    for task_id in loan_endpoints:
        produced = files(library_tasks[task_id])
        assert list(produced) == ["app/routers/loan.py"]
        router, handler = produced["app/routers/loan.py"]
        assert router == "app.routers.loan.router"
        handlers.append(handler)
    assert handlers == [
        "app.routers.loan.f8_borrow_a_book",
        "app.routers.loan.f9_return_a_book",
        "app.routers.loan.f10_list_the_members_loans",
    ]


def test_an_endpoint_needs_its_schemas_repository_service_and_the_database(
    library_tasks: dict[str, Task],
) -> None:
    borrow = spec_of(library_tasks["endpoint:F8"]).needs
    assert borrow == [
        "app.database.get_session",
        "app.repositories.loan.LoanRepository",
        "app.schemas.loan.LoanRead",
        "app.services.f8_borrow_a_book.BorrowABookInput",
        "app.services.f8_borrow_a_book.borrow_a_book",
    ]
    create_book = spec_of(library_tasks["endpoint:F1"]).needs
    assert "app.schemas.book.BookCreate" in create_book
    assert "app.rules.book.check_r1" in create_book  # a plain write checks the rules
    member_loans = spec_of(library_tasks["endpoint:F10"]).needs
    assert "app.repositories.member.MemberRepository" in member_loans  # 404 on the parent
    assert "app.schemas.loan.LoanPage" in member_loans


def test_an_endpoint_answering_with_another_entity_needs_its_read_schema(
    shop: ApplicationIR,
) -> None:
    add_line = spec_of(atomized(shop)["endpoint:F4"]).needs
    assert "app.schemas.order.OrderRead" in add_line
    assert "app.repositories.order_line.OrderLineRepository" in add_line


def test_a_flow_needs_what_it_touches_and_the_rules_on_it(library_tasks: dict[str, Task]) -> None:
    borrow = library_tasks["flow:F8"]
    assert files(borrow) == {
        "app/services/f8_borrow_a_book.py": [
            "app.services.f8_borrow_a_book.borrow_a_book",
            "app.services.f8_borrow_a_book.BorrowABookInput",
        ]
    }
    needs = spec_of(borrow).needs
    for entity in ("book", "member", "loan"):
        name = entity.capitalize()
        assert f"app.repositories.{entity}.{name}Repository" in needs
        assert f"app.models.{entity}.{name}" in needs
    assert {"app.rules.book.check_r1", "app.rules.member.check_r2"} <= set(needs)
    # Returning a book walks loan.book and loan.member.
    returning = spec_of(library_tasks["flow:F9"]).needs
    assert "app.repositories.book.BookRepository" in returning


def test_a_flow_walks_collections_loops_and_finds(examples: dict[str, ApplicationIR]) -> None:
    bill = spec_of(atomized(examples["timesheet"])["flow:F7"]).needs
    for entity in ("project", "invoice", "invoice_line", "time_entry", "consultant"):
        assert any(symbol.startswith(f"app.repositories.{entity}.") for symbol in bill), entity


def test_a_rule_checks_in_its_entitys_rules_module(
    library_tasks: dict[str, Task], examples: dict[str, ApplicationIR]
) -> None:
    rule = library_tasks["rule:R1"]
    assert files(rule) == {"app/rules/book.py": ["app.rules.book.check_r1"]}
    assert spec_of(rule).needs == ["app.errors.AppError", "app.models.book.Book"]
    seats = spec_of(atomized(examples["rooms"])["rule:R3"]).needs
    assert "app.models.room.Room" in seats  # `room.capacity`


def test_tests_are_modules_named_by_requirement(library_tasks: dict[str, Task]) -> None:
    borrow = library_tasks["tests:F8"]
    assert files(borrow) == {
        "tests/test_f8_borrow_a_book.py": ["tests.test_f8_borrow_a_book.test_f8"]
    }
    assert {
        "app.main.app",
        "tests.conftest.client",
        "app.services.f8_borrow_a_book.borrow_a_book",
    } <= set(spec_of(borrow).needs)
    book = files(library_tasks["tests:Book"])["tests/test_book.py"]
    assert "tests.test_book.test_book_isbn_unique" in book
    assert "tests.test_book.test_f1" in book
    rules = library_tasks["tests:rules"]
    assert list(files(rules)) == ["tests/test_rules.py"]
    assert {"app.rules.book.check_r1", "app.rules.member.check_r2"} <= set(spec_of(rules).needs)


def test_the_application_shell_and_infrastructure(library_tasks: dict[str, Task]) -> None:
    main = library_tasks["app:main"]
    assert files(main)["app/main.py"] == ["app.main.app"]
    assert "app/services/__init__.py" in files(main)
    routers = [symbol for symbol in spec_of(main).needs if symbol.startswith("app.routers.")]
    assert routers == [
        "app.routers.book.router",
        "app.routers.loan.router",
        "app.routers.member.router",
    ]
    assert list(files(library_tasks["app:database"])) == ["app/database.py"]
    assert list(files(library_tasks["app:errors"])) == ["app/errors.py"]
    paths = {
        task_id: list(files(library_tasks[task_id]))
        for task_id in ("infra:requirements", "infra:dockerfile", "infra:compose", "infra:readme")
    }
    assert paths == {
        "infra:requirements": ["requirements.txt"],
        "infra:dockerfile": ["Dockerfile"],
        "infra:compose": ["compose.yaml"],
        "infra:readme": ["README.md"],
    }
    assert "tests/conftest.py" in files(library_tasks["infra:conftest"])


def test_every_needed_symbol_is_produced_in_every_example(
    examples: dict[str, ApplicationIR],
) -> None:
    for name, ir in examples.items():
        tasks = atomized(ir).values()
        produced = {s for task in tasks for item in spec_of(task).produces for s in item.symbols}
        for task in tasks:
            assert set(spec_of(task).needs) <= produced, (name, task.id)


def test_symbols_have_one_producer_except_a_shared_router(
    examples: dict[str, ApplicationIR],
) -> None:
    for name, ir in examples.items():
        producers: dict[str, list[str]] = {}
        for task in atomized(ir).values():
            for item in spec_of(task).produces:
                for symbol in item.symbols:
                    producers.setdefault(symbol, []).append(task.id)
        shared = {symbol for symbol, tasks in producers.items() if len(tasks) > 1}
        assert all(symbol.endswith(".router") for symbol in shared), (name, shared)


def test_a_file_is_shared_only_by_endpoints_or_by_rules(examples: dict[str, ApplicationIR]) -> None:
    for name, ir in examples.items():
        kinds: dict[str, set[str]] = {}
        for task in atomized(ir).values():
            for item in spec_of(task).produces:
                kinds.setdefault(item.path, set()).add(task.kind)
        assert all(len(found) == 1 for found in kinds.values()), name


def test_derived_ids_give_valid_python_names(compile_ok: CompileOk) -> None:
    ir = compile_ok(
        "# Shelves\n\n## Entities\n\n### Shelf\n- name: string, required\n\n"
        "## Endpoints\n- CRUD /shelves\n- POST /shelves/{id}/clear: clear a shelf\n\n"
        '## Flows\n\n### Clear a shelf\n- Set shelf.name to "empty".\n'
    )
    tasks = atomized(ir)
    clear = files(tasks["endpoint:POST /shelves/{id}/clear"])["app/routers/shelf.py"]
    assert clear == [
        "app.routers.shelf.router",
        "app.routers.shelf.post_shelves_id_clear_clear_a_shelf",
    ]
    assert files(tasks["endpoint:CRUD /shelves.create"])["app/routers/shelf.py"][1] == (
        "app.routers.shelf.crud_shelves_create_a_shelf"
    )
    assert "app/services/clear_a_shelf.py" in files(tasks["flow:POST /shelves/{id}/clear"])
    for task in tasks.values():
        for item in spec_of(task).produces:
            for symbol in item.symbols:
                if symbol.startswith(("app.", "tests.")):
                    assert all(part.isidentifier() for part in symbol.split(".")), symbol


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F1.create", "f1_create"),
        ("GET /books/{id}", "get_books_id"),
        ("the member's loans", "the_members_loans"),
        ("TimeEntry", "time_entry"),
        ("R-1e3b27", "r_1e3b27"),
        ("class", "class_"),
        ("3 ways", "n_3_ways"),
        ("", "unnamed"),
    ],
)
def test_identifier(text: str, expected: str) -> None:
    assert identifier(text) == expected


def test_crud_handlers_are_named_by_their_line_and_summary(shop: ApplicationIR) -> None:
    tasks = atomized(shop)
    handlers = [
        files(tasks[f"endpoint:F1.{part}"])["app/routers/product.py"][1]
        for part in ("create", "list", "get", "update", "delete")
    ]
    assert handlers == [
        "app.routers.product.f1_create_a_product",
        "app.routers.product.f1_list_products",
        "app.routers.product.f1_get_a_product",
        "app.routers.product.f1_update_a_product",
        "app.routers.product.f1_delete_a_product",
    ]
