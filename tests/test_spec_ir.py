"""What the spec language expresses, checked on the compiled ApplicationIR.

Each spec here compiles without a diagnostic; the tests look at the IR it gives,
one behaviour each. Tests marked `xfail(strict=True)` pin down compiler bugs.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache
from typing import Any

import pytest
from ir_helpers import literal, parts, step
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    AggregateExpr,
    CardinalityRule,
    ClockExpr,
    CompareRule,
    Comparison,
    CreateStep,
    DeleteStep,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    IsGiven,
    NoOverlapRule,
    RespondStep,
    Rule,
    SetFromInput,
    SetStep,
)
from specloom.ir.domain import Field
from specloom.spec.compiler import compile_spec


def listing(text: str) -> str:
    return "\n".join(d.format("spec") for d in compile_spec(text).diagnostics)


@cache
def ir_of(text: str) -> ApplicationIR:
    """The IR of a spec that must compile without a single diagnostic."""
    result = compile_spec(text)
    assert result.diagnostics == [], listing(text)
    return result.ir


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def field(text: str, entity: str, name: str) -> Field:
    found = ir_of(text).domain.entity(entity)
    assert found is not None, entity
    result = found.field(name)
    assert result is not None, f"{entity}.{name}"
    return result


def flow(text: str, flow_id: str) -> Flow:
    flows = {f.id: f for f in ir_of(text).behaviour.flows}
    return flows[flow_id]


def rule(text: str, rule_id: str) -> Rule:
    rules = {r.id: r for r in ir_of(text).behaviour.rules}
    return rules[rule_id]


# --- entities, fields and constraints ----------------------------------------------

LIBRARY = dedent(
    """
    # Library

    ## Entities

    ### Book
    - title: string, required, min length 1, max length 200
    - isbn: string, required, unique, pattern `^97[89][0-9]{10}$`
    - price: decimal(8,2), >= 0
    - weight: decimal
    - total_copies: integer, required, between 1 and 50
    - available_copies: integer, >= 0, <= total_copies, defaults to total_copies, read-only
    - code: string, length 4
    - shelf: string, length 2..3
    - blurb: text, optional
    - format: enum PAPER | EBOOK | AUDIO, default PAPER
    - hot: boolean, default false
    - label: string, default "new"
    - rating: integer, positive, at most 5
    - pages: int, non-negative
    - added_on: date, default today
    - seen_at: datetime, default now
    - created_at: datetime, set on create, read-only
    - updated_at: datetime, set on update, read-only
    - uid: uuid, optional
    - site: url, optional
    - unique together: title, format

    ### Member
    - email: email, required, unique
    - status: enum ACTIVE | SUSPENDED, default ACTIVE, read-only
    - open_loans: integer, default 0, read-only
    - vip: bool, default no

    ### Loan
    - book: Book, required
    - member: Member, required
    - status: enum OPEN | RETURNED, default OPEN, read-only
    - borrowed_on: date, default today
    - due_on: date, required, after borrowed_on
    - returned_at: datetime, optional, read-only
    - remind_on: date, optional, on or after today
    - slot: string, unique with book

    ## Endpoints
    - F1. CRUD /books: paginated (page size 50)
    - F2. POST /members: register a member
    - F3. PATCH /members/{id}: update email, vip
    - F4. GET /members: list members, filter by status and vip, ordered by -email
    - F5. POST /members/{id}/suspend: suspend a member
    - F6. POST /loans: borrow a book
    - F7. GET /members/{id}/loans: list the member's loans, filter by status, ordered by due_on desc
    - F8. POST /loans/{id}/return: return a book

    ## Flows

    ### F5. Suspend a member
    - Require member.status is ACTIVE, else 409 "member is already suspended".
    - Set member.status to SUSPENDED.

    ### F6. Borrow a book
    Input: book_id, member_id, due_on
    - Require member.status is ACTIVE, else 403 "member is suspended".
    - Require book.available_copies > 0, else 409 "no copy available".
    - Require due_on is after today, else 422 "due date must be in the future".
    - Create a Loan with book, member and due_on.
    - Decrease book.available_copies by 1.
    - Increase member.open_loans by 1.
    - Respond 201 with the loan.

    ### F8. Return a book
    - Require loan.status is OPEN, else 409 "loan already returned".
    - Set loan.status to RETURNED and loan.returned_at to now.
    - Increase loan.book.available_copies by 1.
    - Decrease loan.member.open_loans by 1.

    ## Rules
    - R1. A book's available_copies never exceeds its total_copies.
    - A member's open_loans is never negative.

    ## Errors
    - An unknown id in the path or in a reference answers 404.
    - A field that breaks its constraints answers 422.
    - A duplicate value of a unique field answers 409.
    """
)


def test_a_library_spec_compiles_without_a_diagnostic() -> None:
    ir = ir_of(LIBRARY)
    assert ir.name == "Library"
    assert [e.name for e in ir.domain.entities] == ["Book", "Member", "Loan"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("title", "string"),
        ("blurb", "text"),
        ("total_copies", "integer"),
        ("pages", "integer"),
        ("hot", "boolean"),
        ("added_on", "date"),
        ("seen_at", "datetime"),
        ("uid", "uuid"),
        ("site", "url"),
    ],
)
def test_each_scalar_type_compiles_to_its_kind(name: str, kind: str) -> None:
    assert field(LIBRARY, "Book", name).type.kind == kind


def test_email_and_bool_alias_compile_to_their_kinds() -> None:
    assert field(LIBRARY, "Member", "email").type.kind == "email"
    assert field(LIBRARY, "Member", "vip").type.kind == "boolean"


def test_decimal_keeps_its_precision_and_scale() -> None:
    price = field(LIBRARY, "Book", "price").type
    assert (price.kind, price.precision, price.scale) == ("decimal", 8, 2)


def test_a_bare_decimal_gets_the_default_precision_and_scale() -> None:
    weight = field(LIBRARY, "Book", "weight").type
    assert (weight.precision, weight.scale) == (12, 2)


def test_an_enum_keeps_its_values_in_order() -> None:
    assert field(LIBRARY, "Book", "format").type.values == ["PAPER", "EBOOK", "AUDIO"]


def test_a_reference_names_its_entity() -> None:
    book = field(LIBRARY, "Loan", "book")
    assert (book.type.kind, book.type.entity) == ("reference", "Book")
    assert book.json_name == "book_id"


def test_required_optional_and_unique_are_flags() -> None:
    isbn = field(LIBRARY, "Book", "isbn")
    assert (isbn.required, isbn.optional, isbn.unique) == (True, False, True)
    assert field(LIBRARY, "Book", "blurb").optional


def test_unique_together_is_kept_on_the_entity() -> None:
    book = ir_of(LIBRARY).domain.entity("Book")
    assert book is not None
    assert [u.fields for u in book.unique_together] == [["title", "format"]]


def test_unique_with_is_kept_on_the_field() -> None:
    assert field(LIBRARY, "Loan", "slot").unique_with == ["book"]


def bounds(text: str, entity: str, name: str) -> list[tuple[str, str | None, str | None]]:
    return [
        (b.op, b.value.text if b.value else None, b.field) for b in field(text, entity, name).bounds
    ]


def test_between_is_two_inclusive_bounds() -> None:
    assert bounds(LIBRARY, "Book", "total_copies") == [(">=", "1", None), ("<=", "50", None)]


def test_words_for_bounds_compile_to_operators() -> None:
    assert bounds(LIBRARY, "Book", "rating") == [(">", "0", None), ("<=", "5", None)]
    assert bounds(LIBRARY, "Book", "pages") == [(">=", "0", None)]


def test_a_bound_against_another_field_names_that_field() -> None:
    assert bounds(LIBRARY, "Book", "available_copies") == [
        (">=", "0", None),
        ("<=", None, "total_copies"),
    ]
    assert bounds(LIBRARY, "Loan", "due_on") == [(">", None, "borrowed_on")]


def test_a_bound_against_the_clock_names_the_clock() -> None:
    (bound,) = field(LIBRARY, "Loan", "remind_on").bounds
    assert (bound.op, bound.clock, bound.field, bound.value) == (">=", "today", None, None)


def test_lengths_compile_to_min_and_max() -> None:
    lengths = {
        name: (field(LIBRARY, "Book", name).min_length, field(LIBRARY, "Book", name).max_length)
        for name in ("title", "code", "shelf")
    }
    assert lengths == {"title": (1, 200), "code": (4, 4), "shelf": (2, 3)}


def test_a_pattern_is_kept_without_its_backticks() -> None:
    assert field(LIBRARY, "Book", "isbn").pattern == "^97[89][0-9]{10}$"


def test_literal_defaults_keep_their_kind_and_canonical_text() -> None:
    defaults = {
        (e, n): field(LIBRARY, e, n).default
        for e, n in [("Book", "format"), ("Book", "hot"), ("Book", "label"), ("Member", "vip")]
    }
    assert {
        key: (d.kind, d.value.kind, d.value.text)
        for key, d in defaults.items()
        if d is not None and d.value is not None
    } == {
        ("Book", "format"): ("literal", "enum", "PAPER"),
        ("Book", "hot"): ("literal", "boolean", "false"),
        ("Book", "label"): ("literal", "string", "new"),
        ("Member", "vip"): ("literal", "boolean", "false"),
    }


def test_defaults_to_another_field_names_the_field() -> None:
    default = field(LIBRARY, "Book", "available_copies").default
    assert default is not None
    assert (default.kind, default.field) == ("field", "total_copies")


def test_now_and_today_are_clock_defaults() -> None:
    now = field(LIBRARY, "Book", "seen_at").default
    today = field(LIBRARY, "Book", "added_on").default
    assert (now and now.kind, today and today.kind) == ("now", "today")


def test_read_only_and_set_on_create_or_update_are_flags() -> None:
    created = field(LIBRARY, "Book", "created_at")
    updated = field(LIBRARY, "Book", "updated_at")
    assert (created.read_only, created.set_on_create, created.set_on_update) == (True, True, False)
    assert (updated.read_only, updated.set_on_create, updated.set_on_update) == (True, False, True)


def test_field_ranges_point_at_the_field_line_and_type() -> None:
    lines = LIBRARY.split("\n")
    isbn = field(LIBRARY, "Book", "isbn")
    line = next(i for i, text in enumerate(lines) if text.startswith("- isbn:"))
    assert (isbn.range.start.line, isbn.range.start.column) == (line, 2)
    assert (isbn.type.range.start.line, isbn.type.range.start.column) == (line, 8)
    assert (isbn.type.range.end.line, isbn.type.range.end.column) == (line, 14)


COLLECTIONS = dedent(
    """
    # Timesheets

    ## Entities

    ### Consultant
    - email: email, required, unique
    - mentored: list of TimeEntry via reviewer

    ### TimeEntry
    - consultant: Consultant, required
    - reviewer: Consultant, optional
    - hours: decimal(5,2), required, > 0, <= 12

    ### Invoice
    - status: enum DRAFT | SENT, default DRAFT
    - lines: list of InvoiceLine

    ### InvoiceLine
    - invoice: Invoice, required
    - amount: decimal(10,2), required

    ## Endpoints
    - F1. CRUD /consultants
    - F2. CRUD /invoices
    """
)


def test_list_of_with_two_ways_back_takes_the_via_it_is_given() -> None:
    collection = field(COLLECTIONS, "Consultant", "mentored").type
    assert (collection.kind, collection.entity, collection.via) == (
        "collection",
        "TimeEntry",
        "reviewer",
    )


def test_list_of_with_one_way_back_learns_its_via() -> None:
    lines = field(COLLECTIONS, "Invoice", "lines").type
    assert (lines.kind, lines.entity, lines.via) == ("collection", "InvoiceLine", "invoice")


def test_two_references_to_the_same_entity_stay_two_fields() -> None:
    consultant = field(COLLECTIONS, "TimeEntry", "consultant")
    reviewer = field(COLLECTIONS, "TimeEntry", "reviewer")
    assert (consultant.type.entity, reviewer.type.entity) == ("Consultant", "Consultant")
    assert (consultant.required, reviewer.optional) == (True, True)


def test_a_collection_is_not_stored() -> None:
    assert not field(COLLECTIONS, "Invoice", "lines").is_stored
    assert field(COLLECTIONS, "InvoiceLine", "invoice").is_stored


# --- endpoints ---------------------------------------------------------------------


def endpoints(text: str) -> dict[str, Any]:
    return {e.id: e for e in ir_of(text).api.endpoints}


def test_crud_expands_into_five_endpoints_with_derived_ids() -> None:
    crud = [e for e in ir_of(LIBRARY).api.endpoints if e.crud_group == "F1"]
    assert [(e.id, e.method, e.path, e.kind) for e in crud] == [
        ("F1.create", "POST", "/books", "create"),
        ("F1.list", "GET", "/books", "list"),
        ("F1.get", "GET", "/books/{id}", "get"),
        ("F1.update", "PATCH", "/books/{id}", "update"),
        ("F1.delete", "DELETE", "/books/{id}", "delete"),
    ]
    assert {e.entity for e in crud} == {"Book"}
    assert [e.target for e in crud] == [None, None, "Book", "Book", "Book"]
    assert all(e.explicit_id for e in crud)


def test_crud_item_endpoints_take_the_id_of_the_entity() -> None:
    get = endpoints(LIBRARY)["F1.get"]
    assert [(p.name, p.entity) for p in get.parameters] == [("id", "Book")]


def test_crud_passes_its_page_size_to_the_list() -> None:
    listing_ = endpoints(LIBRARY)["F1.list"]
    assert (listing_.paginated, listing_.page_size) == (True, 50)


def test_crud_except_leaves_out_an_operation() -> None:
    text = dedent(
        """
        # Todo

        ## Entities

        ### Project
        - name: string, required

        ## Endpoints
        - F1. CRUD /projects: except delete
        """
    )
    assert list(endpoints(text)) == ["F1.create", "F1.list", "F1.get", "F1.update"]


def test_a_list_is_paginated_by_20_by_default() -> None:
    members = endpoints(LIBRARY)["F4"]
    assert (members.kind, members.paginated, members.page_size) == ("list", True, 20)


def test_a_list_keeps_its_filters() -> None:
    assert endpoints(LIBRARY)["F4"].filters == ["status", "vip"]


def test_ordering_keeps_field_and_direction() -> None:
    orderings = {
        key: [(o.field, o.descending) for o in endpoints(LIBRARY)[key].ordering]
        for key in ("F4", "F7")
    }
    assert orderings == {"F4": [("email", True)], "F7": [("due_on", True)]}


def test_a_nested_list_is_the_children_of_the_parent_in_the_path() -> None:
    loans = endpoints(LIBRARY)["F7"]
    assert (loans.kind, loans.entity, loans.parent, loans.parent_field, loans.target) == (
        "list",
        "Loan",
        "Member",
        "member",
        "Member",
    )
    assert [(p.name, p.entity) for p in loans.parameters] == [("id", "Member")]
    assert loans.filters == ["status"]


def test_an_update_lists_the_fields_it_changes() -> None:
    update = endpoints(LIBRARY)["F3"]
    assert (update.kind, update.updatable) == ("update", ["email", "vip"])


def test_an_action_is_bound_to_its_flow() -> None:
    suspend = endpoints(LIBRARY)["F5"]
    assert (suspend.kind, suspend.entity, suspend.target, suspend.flow) == (
        "action",
        "Member",
        "Member",
        "F5",
    )
    assert flow(LIBRARY, "F5").endpoint == "F5"


def test_a_create_with_a_flow_is_bound_to_it() -> None:
    borrow = endpoints(LIBRARY)["F6"]
    assert (borrow.kind, borrow.entity, borrow.flow) == ("create", "Loan", "F6")


NESTED = dedent(
    """
    # Invoices

    ## Entities

    ### Project
    - code: string, required, unique

    ### Task
    - project: Project, required
    - title: string, required

    ### Invoice
    - status: enum DRAFT | SENT, default DRAFT
    - lines: list of InvoiceLine

    ### InvoiceLine
    - invoice: Invoice, required
    - amount: decimal(10,2), required

    ## Endpoints
    - F1. CRUD /projects
    - F2. POST /projects/{id}/tasks: add a task
    - F3. CRUD /invoices
    - F4. DELETE /invoices/{id}/lines: drop every line
    - F5. GET /invoices/{id}/lines: list the lines, paginated (page size 50)
    - F6. GET /projects/{project_id}/tasks: list the tasks, page size 10
    - F7. PATCH /invoices/{id}/lines/{line_id}: set the amount of a line
    - POST /invoices/{id}/send: send an invoice

    ## Flows

    ### Send an invoice
    - Set invoice.status to SENT.
    """
)


def test_delete_on_a_nested_collection_deletes_the_children() -> None:
    drop = endpoints(NESTED)["F4"]
    assert (drop.kind, drop.entity, drop.parent, drop.parent_field, drop.target) == (
        "delete_children",
        "InvoiceLine",
        "Invoice",
        "lines",
        "Invoice",
    )


def test_a_nested_create_adds_a_child_to_the_parent() -> None:
    add = endpoints(NESTED)["F2"]
    assert (add.kind, add.entity, add.parent, add.parent_field) == (
        "create",
        "Task",
        "Project",
        "project",
    )


def test_paginated_with_a_page_size_sets_the_page_size() -> None:
    lines = endpoints(NESTED)["F5"]
    assert (lines.kind, lines.paginated, lines.page_size) == ("list", True, 50)


def test_page_size_alone_sets_the_page_size() -> None:
    tasks = endpoints(NESTED)["F6"]
    assert (tasks.paginated, tasks.page_size) == (True, 10)


def test_an_item_of_a_nested_collection_has_both_parameters() -> None:
    line = endpoints(NESTED)["F7"]
    assert (line.kind, line.entity, line.target, line.parent, line.parent_field) == (
        "update",
        "InvoiceLine",
        "InvoiceLine",
        "Invoice",
        "lines",
    )
    assert [(p.name, p.entity) for p in line.parameters] == [
        ("id", "Invoice"),
        ("line_id", "InvoiceLine"),
    ]


def test_a_path_parameter_may_be_named_after_its_entity() -> None:
    tasks = endpoints(NESTED)["F6"]
    assert [(p.name, p.entity) for p in tasks.parameters] == [("project_id", "Project")]
    assert (tasks.entity, tasks.parent, tasks.parent_field) == ("Task", "Project", "project")


def test_an_endpoint_without_id_is_named_by_its_route_and_found_by_its_flow() -> None:
    send = endpoints(NESTED)["POST /invoices/{id}/send"]
    assert (send.explicit_id, send.kind, send.flow) == (False, "action", send.id)
    linked = ir_of(NESTED).behaviour.flows[0]
    assert (linked.id, linked.endpoint) == (send.id, send.id)


# --- flows -------------------------------------------------------------------------


def test_reference_inputs_name_their_field_and_entity() -> None:
    inputs = flow(LIBRARY, "F6").inputs
    assert [(i.name, i.field, i.reference, i.optional) for i in inputs] == [
        ("book_id", "book", "Book", False),
        ("member_id", "member", "Member", False),
        ("due_on", "due_on", None, False),
    ]


def test_a_guard_keeps_condition_status_and_message() -> None:
    guard = step(flow(LIBRARY, "F6").steps, 0, Guard)
    condition = guard.condition
    assert isinstance(condition, Comparison)
    assert (parts(condition.left), condition.op, literal(condition.right)) == (
        ["member", "status"],
        "=",
        ("enum", "ACTIVE"),
    )
    assert (guard.status, guard.message) == (403, "member is suspended")


def test_today_in_a_guard_is_a_clock() -> None:
    guard = step(flow(LIBRARY, "F6").steps, 2, Guard)
    assert isinstance(guard.condition, Comparison)
    assert guard.condition.op == ">"
    assert isinstance(guard.condition.right, ClockExpr)
    assert guard.condition.right.clock == "today"


def test_create_copies_the_named_inputs() -> None:
    create = step(flow(LIBRARY, "F6").steps, 3, CreateStep)
    assert (create.entity, create.variable) == ("Loan", "loan")
    assert [(v.field, parts(v.value)) for v in create.fields] == [
        ("book", ["book"]),
        ("member", ["member"]),
        ("due_on", ["due_on"]),
    ]


def test_increase_and_decrease_name_their_target_and_amount() -> None:
    steps = flow(LIBRARY, "F6").steps
    decrease = step(steps, 4, AdjustStep)
    increase = step(steps, 5, AdjustStep)
    assert (decrease.direction, parts(decrease.target), literal(decrease.amount)) == (
        "decrease",
        ["book", "available_copies"],
        ("integer", "1"),
    )
    assert (increase.direction, parts(increase.target)) == ("increase", ["member", "open_loans"])


def test_adjusting_through_a_reference_keeps_the_whole_path() -> None:
    increase = step(flow(LIBRARY, "F8").steps, 2, AdjustStep)
    assert parts(increase.target) == ["loan", "book", "available_copies"]


def test_set_with_and_makes_two_assignments_one_of_them_now() -> None:
    set_step = step(flow(LIBRARY, "F8").steps, 1, SetStep)
    first, second = set_step.assignments
    assert (parts(first.target), literal(first.value)) == (["loan", "status"], ("enum", "RETURNED"))
    assert parts(second.target) == ["loan", "returned_at"]
    assert isinstance(second.value, ClockExpr)
    assert second.value.clock == "now"


def test_respond_keeps_status_and_body() -> None:
    respond = step(flow(LIBRARY, "F6").steps, 6, RespondStep)
    assert (respond.status, parts(respond.body)) == (201, ["loan"])


def test_step_ranges_point_at_the_step_line() -> None:
    lines = LIBRARY.split("\n")
    guard = step(flow(LIBRARY, "F5").steps, 0, Guard)
    line = next(i for i, text in enumerate(lines) if "member is already suspended" in text)
    assert (guard.range.start.line, guard.range.start.column) == (line, 2)
    assert guard.range.end.column == len(lines[line])


SHOP = dedent(
    """
    # Shop

    ## Entities

    ### Customer
    - email: email, required, unique
    - name: string, required
    - credit: integer, default 0
    - status: enum ACTIVE | BLOCKED, default ACTIVE
    - orders: list of Order

    ### Order
    - customer: Customer, required
    - email: email, required
    - status: enum OPEN | PAID, default OPEN
    - total: decimal(10,2), default 0
    - paid_at: datetime, optional
    - lines: list of OrderLine

    ### OrderLine
    - order: Order, required
    - amount: decimal(10,2), required
    - qty: integer, required, >= 1

    ## Endpoints
    - F1. CRUD /customers
    - F2. PATCH /customers/{id}/rename: rename a customer
    - F3. POST /customers/{id}/checkout: check out
    - F4. DELETE /orders/{id}/lines: empty an order
    - F5. POST /orders/{id}/pay: pay an order

    ## Flows

    ### F2. Rename a customer
    Input: name, email (each optional)
    - If name is given:
      - Set customer.name from the input.
    - Set customer.email from the input, where given.

    ### F3. Check out
    Input: amount (decimal)
    - Require customer.status is ACTIVE, else 403 "customer is blocked".
    - Require count of customer.orders with status PAID < 100, else 409 "too many orders".
    - Find the Order of customer with status OPEN; if found, use it.
    - Otherwise create an Order with customer, email = customer.email.
    - Create an OrderLine with order, amount and qty = 1.
    - Set order.total to sum of line.amount over order.lines.
    - If order.total > 100, set customer.credit to customer.credit + 1.
    - Otherwise:
      - Decrease customer.credit by 1.
    - For each o in the Order records of customer with status PAID and total > 0:
      - Set o.total to o.total * 2.
    - Respond 201 with the order.

    ### F4. Empty an order
    - Require order.status is OPEN, else 409 "order is paid".
    - For each line in order.lines:
      - Set line.qty to 1.
    - Delete every line of order.
    - Respond 200 with the order.

    ### F5. Pay an order
    - Set order.status to PAID and order.paid_at to now.
    - Create an Order with customer from order and email from order.
    - Require the order's customer's status is ACTIVE, else 403 "customer is blocked".
    """
)


def test_each_optional_makes_every_input_optional() -> None:
    inputs = flow(SHOP, "F2").inputs
    assert [(i.name, i.optional, i.entity, i.field) for i in inputs] == [
        ("name", True, "Customer", "name"),
        ("email", True, "Customer", "email"),
    ]


def test_an_input_with_a_type_in_parentheses_keeps_it() -> None:
    (amount,) = flow(SHOP, "F3").inputs
    assert (amount.name, amount.explicit_type, amount.field) == ("amount", "decimal", None)


def test_if_given_with_nested_steps_sets_from_the_input() -> None:
    if_step = step(flow(SHOP, "F2").steps, 0, IfStep)
    assert isinstance(if_step.condition, IsGiven)
    assert (if_step.condition.input, if_step.condition.negated) == ("name", False)
    inner = step(if_step.then, 0, SetFromInput)
    assert ([parts(t) for t in inner.targets], inner.only_given) == ([["customer", "name"]], False)


def test_set_from_the_input_where_given_only_sets_what_is_sent() -> None:
    set_step = step(flow(SHOP, "F2").steps, 1, SetFromInput)
    assert ([parts(t) for t in set_step.targets], set_step.only_given) == (
        [["customer", "email"]],
        True,
    )


def test_count_with_a_filter_is_an_aggregate() -> None:
    guard = step(flow(SHOP, "F3").steps, 1, Guard)
    assert isinstance(guard.condition, Comparison)
    count = guard.condition.left
    assert isinstance(count, AggregateExpr)
    assert (count.function, parts(count.collection)) == ("count", ["customer", "orders"])
    assert [(f.field, f.op, literal(f.value)) for f in count.filters] == [
        ("status", "=", ("enum", "PAID"))
    ]


def test_find_or_create_is_a_find_with_a_create_otherwise() -> None:
    find = step(flow(SHOP, "F3").steps, 2, FindStep)
    query = find.query
    assert (find.variable, query.entity, parts(query.owner), query.via) == (
        "order",
        "Order",
        ["customer"],
        "customer",
    )
    assert [(f.field, literal(f.value)) for f in query.filters] == [("status", ("enum", "OPEN"))]
    create = step(find.otherwise, 0, CreateStep)
    assert create.entity == "Order"


def test_create_with_x_equals_a_path_copies_that_path() -> None:
    find = step(flow(SHOP, "F3").steps, 2, FindStep)
    create = step(find.otherwise, 0, CreateStep)
    assert [(v.field, parts(v.value)) for v in create.fields] == [
        ("customer", ["customer"]),
        ("email", ["customer", "email"]),
    ]


def test_create_with_x_from_a_record_copies_its_field() -> None:
    create = step(flow(SHOP, "F5").steps, 1, CreateStep)
    assert [(v.field, parts(v.value)) for v in create.fields] == [
        ("customer", ["order", "customer"]),
        ("email", ["order", "email"]),
    ]


def test_create_with_x_equals_a_literal_keeps_the_literal() -> None:
    create = step(flow(SHOP, "F3").steps, 3, CreateStep)
    assert (create.entity, create.variable) == ("OrderLine", "order_line")
    assert literal(create.fields[2].value) == ("integer", "1")


def test_sum_over_a_collection_binds_its_element() -> None:
    set_step = step(flow(SHOP, "F3").steps, 4, SetStep)
    total = set_step.assignments[0].value
    assert isinstance(total, AggregateExpr)
    assert (total.function, total.variable, parts(total.collection), parts(total.value)) == (
        "sum",
        "line",
        ["order", "lines"],
        ["line", "amount"],
    )


def test_if_with_an_inline_step_and_a_nested_otherwise() -> None:
    if_step = step(flow(SHOP, "F3").steps, 5, IfStep)
    then = step(if_step.then, 0, SetStep)
    assert parts(then.assignments[0].target) == ["customer", "credit"]
    otherwise = step(if_step.otherwise, 0, AdjustStep)
    assert (otherwise.direction, parts(otherwise.target)) == ("decrease", ["customer", "credit"])
    assert len(flow(SHOP, "F3").steps) == 8


def test_for_each_over_a_query_with_filters() -> None:
    loop = step(flow(SHOP, "F3").steps, 6, ForEachStep)
    assert loop.variable == "o"
    assert loop.collection is None
    assert loop.query is not None
    assert (loop.query.entity, parts(loop.query.owner), loop.query.via) == (
        "Order",
        ["customer"],
        "customer",
    )
    assert [(f.field, f.op) for f in loop.query.filters] == [("status", "="), ("total", ">")]
    assert parts(step(loop.steps, 0, SetStep).assignments[0].target) == ["o", "total"]


def test_for_each_over_a_collection() -> None:
    loop = step(flow(SHOP, "F4").steps, 1, ForEachStep)
    assert (loop.variable, parts(loop.collection), loop.query) == ("line", ["order", "lines"], None)


def test_delete_every_names_the_parents_collection() -> None:
    delete = step(flow(SHOP, "F4").steps, 2, DeleteStep)
    assert (parts(delete.target), delete.every) == (["order", "lines"], True)


def test_possessives_with_the_read_as_a_path() -> None:
    guard = step(flow(SHOP, "F5").steps, 2, Guard)
    assert isinstance(guard.condition, Comparison)
    assert parts(guard.condition.left) == ["order", "customer", "status"]


# --- rules -------------------------------------------------------------------------

ROOMS = dedent(
    """
    # Rooms

    ## Entities

    ### Room
    - name: string, required, unique
    - capacity: integer, required, >= 1

    ### Person
    - email: email, required, unique
    - mentor: Person, optional

    ### Booking
    - room: Room, required
    - person: Person, required
    - guests: integer, required
    - starts_at: datetime, required
    - ends_at: datetime, required
    - status: enum HELD | CONFIRMED, default HELD

    ### Slot
    - room: Room, required
    - opens: datetime, required
    - closes: datetime, required, after opens

    ### Shift
    - room: Room, required
    - start_date: date, required
    - end_date: date, required

    ## Endpoints
    - F1. CRUD /rooms
    - F2. CRUD /people
    - F3. CRUD /bookings
    - F4. CRUD /slots
    - F5. CRUD /shifts

    ## Rules
    - R1. A booking's guests never exceeds its room's capacity.
    - R2. A booking's ends_at is after its starts_at (422 "ends before it starts").
    - R3. A person's mentor is not the person themselves.
    - R4. Two bookings of the same room never overlap in time (409 "room is taken");
      one that ends when another starts does not overlap it.
    - R5. Two slots of the same room never overlap from opens to closes.
    - R6. A person has at most one Booking with status HELD.
    - R7. A room's capacity is at most 500.
    - R8. Two bookings of the same room and person never overlap.
    - R9. Two shifts of the same room never overlap.
    - R10. No two slots of the same room overlap.

    ## Errors
    - An unknown id in the path or in a reference answers 404.
    - A field that breaks its constraints answers 422.
    - A duplicate value of a unique field answers 409.
    - A broken rule answers 400.
    - A conflict answers 409.
    """
)


def compare(rule_id: str) -> CompareRule:
    body = rule(ROOMS, rule_id).body
    assert isinstance(body, CompareRule), body
    return body


def test_a_comparison_rule_through_a_reference() -> None:
    body = compare("R1")
    assert (body.entity, parts(body.left), body.op, parts(body.right)) == (
        "Booking",
        ["guests"],
        "<=",
        ["room", "capacity"],
    )


def test_a_rule_between_times_with_status_and_message() -> None:
    r2 = rule(ROOMS, "R2")
    assert (parts(compare("R2").left), compare("R2").op, parts(compare("R2").right)) == (
        ["ends_at"],
        ">",
        ["starts_at"],
    )
    assert (r2.status, r2.message) == (422, "ends before it starts")


def test_a_rule_about_the_record_itself() -> None:
    body = compare("R3")
    assert (body.entity, parts(body.left), body.op, parts(body.right)) == (
        "Person",
        ["mentor"],
        "!=",
        ["self"],
    )


def test_a_comparison_with_a_number() -> None:
    body = compare("R7")
    assert (body.op, literal(body.right)) == ("<=", ("integer", "500"))


def test_a_rule_without_a_status_answers_what_errors_gives_broken_rules() -> None:
    assert (rule(ROOMS, "R7").status, rule(ROOMS, "R5").status) == (400, 409)


def test_a_comparison_rule_without_a_status_or_error_policy_answers_422() -> None:
    text = RULES.replace("<rules>", "- R1. A customer's credit is never negative.")
    assert [r.status for r in ir_of(text).behaviour.rules] == [422]


def overlap(rule_id: str) -> NoOverlapRule:
    body = rule(ROOMS, rule_id).body
    assert isinstance(body, NoOverlapRule), body
    return body


def test_no_overlap_infers_start_and_end_from_the_rule_between_times() -> None:
    body = overlap("R4")
    assert (body.entity, body.key, body.start, body.end) == (
        "Booking",
        ["room"],
        "starts_at",
        "ends_at",
    )
    assert (rule(ROOMS, "R4").status, rule(ROOMS, "R4").message) == (409, "room is taken")


def test_no_overlap_with_explicit_start_and_end() -> None:
    body = overlap("R5")
    assert (body.entity, body.key, body.start, body.end) == ("Slot", ["room"], "opens", "closes")
    assert rule(ROOMS, "R5").status == 409


def test_no_overlap_infers_start_and_end_from_the_usual_names() -> None:
    body = overlap("R9")
    assert (body.entity, body.start, body.end) == ("Shift", "start_date", "end_date")


def test_no_two_overlap_infers_start_and_end_from_a_field_bound() -> None:
    body = overlap("R10")
    assert (body.entity, body.key, body.start, body.end) == ("Slot", ["room"], "opens", "closes")


def test_no_overlap_keyed_by_two_fields() -> None:
    assert overlap("R8").key == ["room", "person"]


def test_at_most_one_with_a_filter_is_a_cardinality_rule() -> None:
    body = rule(ROOMS, "R6").body
    assert isinstance(body, CardinalityRule)
    assert (body.owner, body.entity, body.via, body.maximum) == ("Person", "Booking", "person", 1)
    assert [(f.field, literal(f.value)) for f in body.filters] == [("status", ("enum", "HELD"))]
    assert rule(ROOMS, "R6").status == 409


def test_the_error_policy_maps_each_kind_to_its_status() -> None:
    mappings = ir_of(ROOMS).validation.error_policy.mappings
    assert [(m.kind, m.status) for m in mappings] == [
        ("not_found", 404),
        ("validation", 422),
        ("duplicate", 409),
        ("rule", 400),
        ("conflict", 409),
    ]


# --- requirement IDs ----------------------------------------------------------------


def requirements(text: str) -> dict[str, Any]:
    return {r.id: r for r in ir_of(text).validation.requirements}


def test_explicit_ids_are_the_specs_own() -> None:
    found = requirements(LIBRARY)
    assert (found["F6"].explicit, found["F6"].kind) == (True, "flow")
    assert (found["R1"].explicit, found["R1"].kind) == (True, "rule")
    assert found["F2"].kind == "endpoint"


def test_a_crud_line_is_one_requirement_over_its_five_endpoints() -> None:
    crud = requirements(LIBRARY)["F1"]
    assert crud.subjects == ["F1.create", "F1.list", "F1.get", "F1.update", "F1.delete"]


def test_constraints_get_ids_derived_from_entity_field_and_kind() -> None:
    found = requirements(LIBRARY)
    assert (found["Book.isbn.unique"].kind, found["Book.isbn.unique"].explicit) == (
        "constraint",
        False,
    )
    assert field(LIBRARY, "Book", "isbn").requirement_ids == [
        "Book.isbn.required",
        "Book.isbn.unique",
        "Book.isbn.pattern",
    ]
    assert "Book.unique(title,format)" in found


def test_error_policy_lines_get_ids_by_kind() -> None:
    assert {"errors.not_found", "errors.validation", "errors.duplicate"} <= set(
        requirements(LIBRARY)
    )


RULES = dedent(
    """
    # Shop

    ## Entities

    ### Customer
    - email: email, required, unique
    - credit: integer, default 0
    - limit: integer, default 100

    ## Endpoints
    - F1. CRUD /customers

    ## Rules
    <rules>
    """
)


def rule_ids(*lines: str) -> list[str]:
    text = RULES.replace("<rules>", "\n".join(f"- {line}" for line in lines))
    return [r.id for r in ir_of(text).behaviour.rules]


def test_a_rule_without_id_gets_r_and_six_hex_digits() -> None:
    (derived,) = rule_ids("A customer's credit is never negative.")
    assert re.fullmatch(r"R-[0-9a-f]{6}", derived)
    (other,) = rule_ids("A customer's credit never exceeds its limit.")
    assert other != derived


def test_a_derived_rule_id_survives_a_rule_inserted_above_it() -> None:
    (before,) = rule_ids("A customer's credit is never negative.")
    after = rule_ids(
        "A customer's credit never exceeds its limit.",
        "A customer's credit is never negative.",
    )
    assert after[1] == before
    assert after[0] != before


def test_a_derived_rule_id_survives_its_neighbours_getting_ids() -> None:
    plain = rule_ids("A customer's limit is positive.", "A customer's credit is never negative.")
    numbered = rule_ids(
        "R1. A customer's limit is positive.", "A customer's credit is never negative."
    )
    assert numbered[0] == "R1"
    assert numbered[1] == plain[1]
