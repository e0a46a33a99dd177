"""Phrasings the spec language accepts besides its plainest forms, checked on the IR.

Each test compiles a small spec: the accepted phrasings compile without a single
diagnostic to the IR the test names; the rejected ones (`:id` path parameters, rules
that say records `may overlap`) give the one code the test names.
"""

from __future__ import annotations

import textwrap
from functools import cache
from typing import Any

import pytest
from ir_helpers import literal, parts, step
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    CompareRule,
    Comparison,
    Condition,
    CreateStep,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    IsGiven,
    NoOverlapRule,
    RespondStep,
    SetStep,
    Step,
)
from specloom.ir.domain import Field
from specloom.spec.compiler import compile_spec
from specloom.spec.diagnostics import Diagnostic


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def listing(found: list[Diagnostic]) -> str:
    return "\n".join(d.format("spec") for d in found) or "(no diagnostics)"


@cache
def ir_of(text: str) -> ApplicationIR:
    """The IR of a spec that must compile without a single diagnostic."""
    result = compile_spec(text)
    assert result.diagnostics == [], listing(result.diagnostics)
    assert result.ir is not None
    return result.ir


def diagnostics(text: str) -> list[Diagnostic]:
    return compile_spec(text).diagnostics


def comparison(condition: Any) -> tuple[str, list[str], tuple[str, str]]:
    """(op, left path, right literal) of a comparison with a literal."""
    assert isinstance(condition, Comparison), condition
    return condition.op, parts(condition.left), literal(condition.right)


# --- endpoints -----------------------------------------------------------------------

ENDPOINTS = dedent(
    """
    # Events

    ## Entities

    ### Venue
    - name: string, required

    ### Event
    - venue: Venue, required
    - title: string, required
    - code: string, required, unique together with venue, title and starts_at
    - seats_left: integer, required, >= 0
    - starts_at: datetime, required

    ## Endpoints
    - F1. CRUD /venues: except update, list and delete
    - F2. GET /events: filter by venue, title and code, ordered by starts_at, title desc and code
    - F3. PATCH /events/{id}: update title, seats_left and starts_at
    - F4. POST /events
    - F5. GET /events/{id}
    """
)


def endpoint(endpoint_id: str) -> Any:
    return {e.id: e for e in ir_of(ENDPOINTS).api.endpoints}[endpoint_id]


def test_a_colon_path_parameter_is_sl303_with_a_hint_to_write_braces() -> None:
    text = ENDPOINTS.replace("GET /events/{id}", "GET /events/:id")
    found = diagnostics(text)
    assert [d.code for d in found] == ["SL303"], listing(found)
    assert "write '{id}'" in found[0].message


def test_update_lists_fields_written_with_commas_and_a_final_and() -> None:
    assert endpoint("F3").updatable == ["title", "seats_left", "starts_at"]


def test_filter_by_lists_fields_written_with_commas_and_a_final_and() -> None:
    assert endpoint("F2").filters == ["venue", "title", "code"]


def test_ordered_by_lists_fields_written_with_commas_and_a_final_and() -> None:
    assert [(o.field, o.descending) for o in endpoint("F2").ordering] == [
        ("starts_at", False),
        ("title", True),
        ("code", False),
    ]


def test_crud_except_with_commas_and_a_final_and_leaves_out_all_three() -> None:
    crud = [e.id for e in ir_of(ENDPOINTS).api.endpoints if e.crud_group == "F1"]
    assert crud == ["F1.create", "F1.get"]


def test_field_unique_together_with_commas_and_a_final_and_names_all_three() -> None:
    event = ir_of(ENDPOINTS).domain.entity("Event")
    assert event is not None
    code = event.field("code")
    assert code is not None
    assert code.unique_with == ["venue", "title", "starts_at"]


# --- rules ---------------------------------------------------------------------------

RULES = dedent(
    """
    # Rooms

    ## Entities

    ### Room
    - name: string, required
    - capacity: integer, required

    ### Booking
    - room: Room, required
    - guests: integer, required
    - deposit: decimal(8,2), required
    - starts_at: datetime, required
    - ends_at: datetime, required
    - status: enum HELD | CONFIRMED, default HELD

    ## Endpoints
    - F1. CRUD /rooms
    - F2. CRUD /bookings

    ## Rules
    - R1. <rule>
    """
)


def rule_body(line: str) -> Any:
    (rule,) = ir_of(RULES.replace("<rule>", line)).behaviour.rules
    return rule.body


@pytest.mark.parametrize(
    "line",
    [
        "Two bookings of the same room never overlap.",
        "Two bookings of the same room must not overlap.",
        "Two bookings of the same room cannot overlap.",
        "No two bookings of the same room overlap.",
    ],
)
def test_a_no_overlap_rule_says_never_must_not_cannot_or_no_two(line: str) -> None:
    body = rule_body(line)
    assert isinstance(body, NoOverlapRule), body
    assert (body.entity, body.key, body.start, body.end, body.filters) == (
        "Booking",
        ["room"],
        "starts_at",
        "ends_at",
        [],
    )


@pytest.mark.parametrize(
    "line",
    ["Two bookings of the same room may overlap.", "Two bookings of the same room do overlap."],
)
def test_a_rule_saying_records_may_or_do_overlap_is_sl501(line: str) -> None:
    found = diagnostics(RULES.replace("<rule>", line))
    assert [d.code for d in found] == ["SL501"], listing(found)
    assert "never overlap" in found[0].message


def test_a_no_overlap_rule_keeps_its_with_filters() -> None:
    body = rule_body("Two bookings of the same room with status CONFIRMED never overlap.")
    assert isinstance(body, NoOverlapRule), body
    assert (body.entity, body.key) == ("Booking", ["room"])
    assert [(f.field, f.op, literal(f.value)) for f in body.filters] == [
        ("status", "=", ("enum", "CONFIRMED"))
    ]


@pytest.mark.parametrize(
    ("line", "left", "op", "right"),
    [
        ("A booking's guests does not exceed its room's capacity.", "guests", "<=", "capacity"),
        ("A booking's guests may not exceed its room's capacity.", "guests", "<=", "capacity"),
        ("A booking's guests must never exceed its room's capacity.", "guests", "<=", "capacity"),
        ("A booking's guests cannot exceed its room's capacity.", "guests", "<=", "capacity"),
        ("A booking's ends_at must be after its starts_at.", "ends_at", ">", "starts_at"),
    ],
)
def test_a_comparison_rule_reads_modal_phrasing(line: str, left: str, op: str, right: str) -> None:
    body = rule_body(line)
    assert isinstance(body, CompareRule), body
    assert (body.entity, parts(body.left), body.op, parts(body.right)[-1]) == (
        "Booking",
        [left],
        op,
        right,
    )


def test_must_not_be_negative_is_at_least_zero() -> None:
    body = rule_body("A booking's deposit must not be negative.")
    assert isinstance(body, CompareRule), body
    assert (parts(body.left), body.op, literal(body.right)) == (
        ["deposit"],
        ">=",
        ("integer", "0"),
    )


# --- flows: entities named in words, inputs, Respond ---------------------------------

STOCK = dedent(
    """
    # Stock

    ## Entities

    ### Warehouse
    - name: string, required

    ### StockItem
    - warehouse: Warehouse, required
    - sku: string, required
    - quantity: integer, default 0, >= 0
    - note: string, optional

    ### StockMovement
    - stock_item: StockItem, required
    - quantity: integer, required, positive
    - note: text, optional

    ### TimeEntry
    - stock_item: StockItem, required
    - hours: decimal(6,2), required, > 0
    - billed: boolean, default false

    ## Endpoints
    - F1. CRUD /warehouses
    - F5. CRUD /time-entries
    - F2. POST /stock-items/{id}/receive: receive stock
    - F3. POST /warehouses/{id}/restock: restock an item
    - F4. POST /stock-items/{id}/bill: bill an item

    ## Flows

    ### F2. Receive stock
    Input: quantity, note
    - Create a stock movement with stock_item, quantity and note.
    - Increase stock_item.quantity by quantity.
    - Respond 201 with the StockMovement.

    ### F3. Restock an item
    Input: sku
    - Find the stock item of warehouse with sku = sku; if found, use it.
    - Otherwise create a stock item with warehouse and sku.

    ### F4. Bill an item
    - For each e in the time entry records of stock_item with billed false:
      - Set e.billed to true.
    """
)


def stock_flow(flow_id: str) -> Flow:
    return {f.id: f for f in ir_of(STOCK).behaviour.flows}[flow_id]


def test_create_names_its_entity_in_words() -> None:
    create = step(stock_flow("F2").steps, 0, CreateStep)
    assert (create.entity, create.variable) == ("StockMovement", "stock_movement")
    assert [(v.field, parts(v.value)) for v in create.fields] == [
        ("stock_item", ["stock_item"]),
        ("quantity", ["quantity"]),
        ("note", ["note"]),
    ]


def test_find_names_its_entity_in_words_and_binds_its_snake_name() -> None:
    find = step(stock_flow("F3").steps, 0, FindStep)
    assert (find.variable, find.query.entity, parts(find.query.owner), find.query.via) == (
        "stock_item",
        "StockItem",
        ["warehouse"],
        "warehouse",
    )
    create = step(find.otherwise, 0, CreateStep)
    assert (create.entity, create.variable) == ("StockItem", "stock_item")


def test_for_each_over_records_named_in_words_resolves_the_entity() -> None:
    loop = step(stock_flow("F4").steps, 0, ForEachStep)
    assert loop.query is not None
    assert (loop.variable, loop.query.entity, parts(loop.query.owner), loop.query.via) == (
        "e",
        "TimeEntry",
        ["stock_item"],
        "stock_item",
    )
    assert [(f.field, literal(f.value)) for f in loop.query.filters] == [
        ("billed", ("boolean", "false"))
    ]


def test_respond_with_the_entity_name_responds_with_the_created_record() -> None:
    respond = step(stock_flow("F2").steps, 2, RespondStep)
    assert (respond.status, parts(respond.body)) == (201, ["stock_movement"])


def test_inputs_take_their_type_from_the_record_the_flow_creates() -> None:
    # StockItem, the endpoint's entity, has a quantity and a note too.
    inputs = stock_flow("F2").inputs
    assert [(i.name, i.entity, i.field) for i in inputs] == [
        ("quantity", "StockMovement", "quantity"),
        ("note", "StockMovement", "note"),
    ]


# --- flows: conditions, values and steps --------------------------------------------

EVENTS = dedent(
    """
    # Events

    ## Entities

    ### Organizer
    - name: string, required

    ### Event
    - title: string, required
    - seats_left: integer, required, >= 0
    - rating: decimal(4,2), optional
    - sold_out: boolean, default false
    - note: string, optional
    - organizer: Organizer, optional
    - tickets: list of Ticket

    ### Ticket
    - event: Event, required
    - holder: string, required
    - quantity: integer, required, >= 1
    - stars: integer, optional
    - status: enum VALID | VOID, default VALID
    - seat: string, optional

    ## Endpoints
    - F1. CRUD /organizers
    - F2. CRUD /events
    - F3. POST /events/{id}/check: check an event

    ## Flows

    ### F3. Check an event
    Input: quantity (integer), seat (string, optional)
    <steps>
    """
)


def steps_of(*lines: str) -> list[Step]:
    text = EVENTS.replace("<steps>", "\n".join(f"- {line}" for line in lines))
    (flow,) = ir_of(text).behaviour.flows
    return flow.steps


def condition_of(condition: str) -> Condition:
    guard = step(steps_of(f'Require {condition}, else 422 "no".'), 0, Guard)
    return guard.condition


def test_a_condition_may_open_with_a_parenthesized_value() -> None:
    condition = condition_of("(event.seats_left - quantity) >= 0")
    assert isinstance(condition, Comparison), condition
    assert condition.op == ">="
    difference = condition.left
    assert isinstance(difference, BinaryExpr), difference
    assert (difference.op, parts(difference.left), parts(difference.right)) == (
        "-",
        ["event", "seats_left"],
        ["quantity"],
    )
    assert literal(condition.right) == ("integer", "0")


def test_a_parenthesized_condition_still_groups_conditions() -> None:
    condition = condition_of("(seat is given or quantity > 1) and event.seats_left > 0")
    assert isinstance(condition, BoolOp), condition
    assert condition.op == "and"
    group = condition.operands[0]
    assert isinstance(group, BoolOp), group
    assert (group.op, [type(c) for c in group.operands]) == ("or", [IsGiven, Comparison])


@pytest.mark.parametrize(
    ("phrase", "negated"),
    [
        ("is set", False),
        ("is given", False),
        ("is present", False),
        ("is provided", False),
        ("exists", False),
        ("is not set", True),
        ("is missing", True),
        ("is null", True),
        ("is none", True),
        ("does not exist", True),
    ],
)
def test_a_presence_test_on_an_input_is_is_given(phrase: str, negated: bool) -> None:
    condition = condition_of(f"seat {phrase}")
    assert isinstance(condition, IsGiven), condition
    assert (condition.input, condition.negated) == ("seat", negated)


@pytest.mark.parametrize(
    ("phrase", "op"),
    [
        ("is set", "!="),
        ("is present", "!="),
        ("exists", "!="),
        ("is not null", "!="),
        ("is not set", "="),
        ("is missing", "="),
        ("is null", "="),
        ("does not exist", "="),
    ],
)
def test_a_presence_test_on_a_path_compares_with_null(phrase: str, op: str) -> None:
    condition = condition_of(f"event.note {phrase}")
    assert comparison(condition) == (op, ["event", "note"], ("null", "null"))


def test_is_between_is_an_and_of_two_inclusive_bounds() -> None:
    condition = condition_of("quantity is between 1 and 5")
    assert isinstance(condition, BoolOp), condition
    assert condition.op == "and"
    assert [comparison(c) for c in condition.operands] == [
        (">=", ["quantity"], ("integer", "1")),
        ("<=", ["quantity"], ("integer", "5")),
    ]


@pytest.mark.parametrize(
    ("phrase", "op"),
    [("is positive", ">"), ("is negative", "<"), ("is zero", "="), ("is not negative", ">=")],
)
def test_a_sign_word_compares_with_zero(phrase: str, op: str) -> None:
    condition = condition_of(f"event.seats_left {phrase}")
    assert comparison(condition) == (op, ["event", "seats_left"], ("integer", "0"))


def test_average_of_a_value_over_a_collection_is_an_aggregate() -> None:
    set_step = step(
        steps_of("Set event.rating to average of t.stars over event.tickets with status VALID."),
        0,
        SetStep,
    )
    average = set_step.assignments[0].value
    assert isinstance(average, AggregateExpr), average
    assert (average.function, average.variable, parts(average.collection)) == (
        "average",
        "t",
        ["event", "tickets"],
    )
    assert parts(average.value) == ["t", "stars"]
    assert [(f.field, literal(f.value)) for f in average.filters] == [("status", ("enum", "VALID"))]


@pytest.mark.parametrize(("word", "value"), [("yes", "true"), ("no", "false")])
def test_yes_and_no_are_booleans(word: str, value: str) -> None:
    set_step = step(steps_of(f"Set event.sold_out to {word}."), 0, SetStep)
    assert literal(set_step.assignments[0].value) == ("boolean", value)


@pytest.mark.parametrize("word", ["null", "nothing"])
def test_null_and_nothing_are_the_null_literal(word: str) -> None:
    set_step = step(steps_of(f"Set event.note to {word}."), 0, SetStep)
    assert literal(set_step.assignments[0].value) == ("null", "null")


def test_require_that_is_a_guard() -> None:
    guard = step(steps_of('Require that quantity > 0, else 422 "buy one".'), 0, Guard)
    assert (comparison(guard.condition), guard.status, guard.message) == (
        (">", ["quantity"], ("integer", "0")),
        422,
        "buy one",
    )


def test_if_condition_then_step_is_an_inline_if() -> None:
    if_step = step(steps_of("If seat is given, then set event.note to seat."), 0, IfStep)
    assert isinstance(if_step.condition, IsGiven)
    then = step(if_step.then, 0, SetStep)
    assert [(parts(a.target), parts(a.value)) for a in then.assignments] == [
        (["event", "note"], ["seat"])
    ]
    assert if_step.otherwise == []


def test_set_with_an_equals_sign_is_an_assignment() -> None:
    set_step = step(steps_of("Set event.seats_left = event.seats_left - quantity."), 0, SetStep)
    (assignment,) = set_step.assignments
    assert parts(assignment.target) == ["event", "seats_left"]
    assert isinstance(assignment.value, BinaryExpr), assignment.value
    assert (parts(assignment.value.left), parts(assignment.value.right)) == (
        ["event", "seats_left"],
        ["quantity"],
    )


def test_for_each_over_a_collection_keeps_its_with_filters() -> None:
    lines = ("For each ticket in event.tickets with status VALID:", "  - Set ticket.seat to seat.")
    loop = step(steps_of("\n".join(lines)), 0, ForEachStep)
    assert (loop.variable, parts(loop.collection), loop.query) == (
        "ticket",
        ["event", "tickets"],
        None,
    )
    assert [(f.field, f.op, literal(f.value)) for f in loop.filters] == [
        ("status", "=", ("enum", "VALID"))
    ]


def test_for_each_over_a_possessive_is_a_collection() -> None:
    loop = step(
        steps_of("For each t in the event's tickets:\n  - Set t.seat to seat."), 0, ForEachStep
    )
    assert (loop.variable, parts(loop.collection), loop.query, loop.filters) == (
        "t",
        ["event", "tickets"],
        None,
        [],
    )


# --- fields --------------------------------------------------------------------------

FIELDS = dedent(
    """
    # Shop

    ## Entities

    ### Event
    - seats: integer, required, min 1, max 5000
    - guests: integer, minimum 0, maximum 10
    - state: enum DRAFT | ON_SALE | CLOSED, default is ON_SALE

    ## Endpoints
    - F1. CRUD /events
    """
)


def event_field(name: str) -> Field:
    event = ir_of(FIELDS).domain.entity("Event")
    assert event is not None
    found = event.field(name)
    assert found is not None, name
    return found


def bounds(name: str) -> list[tuple[str, tuple[str, str] | None]]:
    return [
        (b.op, (b.value.kind, b.value.text) if b.value else None) for b in event_field(name).bounds
    ]


def test_min_and_max_are_inclusive_bounds() -> None:
    assert bounds("seats") == [(">=", ("integer", "1")), ("<=", ("integer", "5000"))]


def test_minimum_and_maximum_are_inclusive_bounds() -> None:
    assert bounds("guests") == [(">=", ("integer", "0")), ("<=", ("integer", "10"))]


def test_default_is_sets_the_default() -> None:
    default = event_field("state").default
    assert default is not None
    assert default.value is not None
    assert (default.kind, default.value.kind, default.value.text) == ("literal", "enum", "ON_SALE")
