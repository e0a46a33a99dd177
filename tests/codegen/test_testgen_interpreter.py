"""The test generator's oracle: flows run over hand-made worlds, with the answers and
effects the spec gives them, and the rules checked over worlds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from specloom.codegen.testgen.evaluate import arithmetic, compare
from specloom.codegen.testgen.interpreter import Interpreter
from specloom.codegen.testgen.outcome import Outcome, Request
from specloom.codegen.testgen.pseudo import orm_write, plain_flow
from specloom.codegen.testgen.rulecheck import all_hold, broken
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.application import ApplicationIR
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def compiled(name: str) -> ApplicationIR:
    return compile_spec((EXAMPLES / name).read_text(encoding="utf-8")).ir


def run(
    ir: ApplicationIR, flow_id: str, world: World, params: list[int], body: dict[str, Any]
) -> Outcome:
    flow = ir.behaviour.flow(flow_id)
    assert flow is not None
    assert flow.endpoint is not None
    endpoint = ir.api.endpoint(flow.endpoint)
    assert endpoint is not None
    return Interpreter(ir, flow, endpoint).run(world, Request(params, body))


def library_world(
    ir: ApplicationIR, *, status: str = "ACTIVE", open_loans: int = 0, available: int = 1
) -> World:
    world = World(ir)
    world.add(
        "Book",
        {
            "title": "t",
            "isbn": "9780000000000",
            "author": "a",
            "total_copies": 2,
            "available_copies": available,
            "created_at": REF_NOW - timedelta(days=1),
        },
    )
    world.add(
        "Member",
        {
            "email": "m@example.com",
            "full_name": "m",
            "status": status,
            "open_loans": open_loans,
            "joined_at": REF_NOW - timedelta(days=1),
        },
    )
    return world


def test_borrowing_creates_a_loan_and_moves_the_counters() -> None:
    ir = compiled("library.spec.md")
    world = library_world(ir)
    due = REF_TODAY + timedelta(days=3)
    outcome = run(ir, "F8", world, [], {"book_id": 1, "member_id": 1, "due_on": due})
    assert outcome.ok
    assert outcome.status == 201
    assert outcome.created == [Ref("Loan", 1)]
    assert outcome.body == Ref("Loan", 1)
    loan = outcome.world.deref(Ref("Loan", 1)).values
    assert loan == {
        "book": 1,
        "member": 1,
        "status": "OPEN",
        "due_on": due,
        "borrowed_at": REF_NOW,
        "returned_at": None,
    }
    assert outcome.world.deref(Ref("Book", 1)).values["available_copies"] == 0
    assert outcome.world.deref(Ref("Member", 1)).values["open_loans"] == 1
    assert sorted(outcome.changed) == [Ref("Book", 1), Ref("Member", 1)]
    assert world.all("Loan") == []  # the world before is left as it was


def test_guards_stop_the_flow_in_order_and_nothing_persists() -> None:
    ir = compiled("library.spec.md")
    due = REF_TODAY + timedelta(days=1)
    body = {"book_id": 1, "member_id": 1, "due_on": due}
    suspended = run(ir, "F8", library_world(ir, status="SUSPENDED", open_loans=3), [], body)
    assert (suspended.status, suspended.message) == (403, "member is suspended")
    assert suspended.world.all("Loan") == []
    limit = run(ir, "F8", library_world(ir, open_loans=3, available=0), [], body)
    assert (limit.status, limit.message) == (409, "loan limit reached")
    past = run(ir, "F8", library_world(ir), [], {**body, "due_on": REF_TODAY})
    assert (past.status, past.message) == (422, "due date must be in the future")


def test_unknown_ids_answer_404_before_any_guard() -> None:
    ir = compiled("library.spec.md")
    world = library_world(ir, status="SUSPENDED")
    outcome = run(ir, "F8", world, [], {"book_id": 7, "member_id": 1, "due_on": REF_TODAY})
    assert (outcome.status, outcome.message) == (404, "Book 7 not found")
    outcome = run(ir, "F7", world, [9], {})
    assert (outcome.status, outcome.message) == (404, "Member 9 not found")


def test_a_broken_rule_refuses_the_whole_flow() -> None:
    ir = compiled("library.spec.md")
    world = library_world(ir, available=2, open_loans=1)
    world.add("Loan", {"book": 1, "member": 1, "status": "OPEN", "due_on": REF_TODAY})
    outcome = run(ir, "F9", world, [1], {})
    assert outcome.status == 422
    assert outcome.message == "R1: A book's available_copies never exceeds its total_copies"
    assert outcome.broken_rules == ["R1"]
    assert outcome.world.deref(Ref("Loan", 1)).values["status"] == "OPEN"


def test_optional_inputs_only_change_what_is_given() -> None:
    ir = compiled("library.spec.md")
    world = library_world(ir)
    outcome = run(ir, "F4", world, [1], {"title": "new"})
    assert outcome.ok
    assert outcome.status == 200
    assert outcome.body == Ref("Book", 1)
    book = outcome.world.deref(Ref("Book", 1)).values
    assert (book["title"], book["author"], book["total_copies"]) == ("new", "a", 2)
    on_loan = run(ir, "F4", library_world(ir, available=0), [1], {"total_copies": 1})
    assert (on_loan.status, on_loan.message) == (409, "copies are on loan")


def test_find_or_create_and_loops_over_queries() -> None:
    ir = compiled("timesheet.spec.md")
    world = World(ir)
    world.add(
        "Consultant", {"full_name": "c", "email": "c@example.com", "hourly_rate": Decimal("100.00")}
    )
    world.add("Project", {"code": "ABC-123", "client": "x", "status": "ACTIVE"})
    for day, hours in enumerate((Decimal("1.50"), Decimal("2.25"))):
        world.add(
            "TimeEntry",
            {
                "consultant": 1,
                "project": 1,
                "starts_at": REF_NOW + timedelta(days=day),
                "ends_at": REF_NOW + timedelta(days=day, hours=1),
                "hours": hours,
                "billed": False,
                "overtime": False,
            },
        )
    outcome = run(ir, "F7", world, [1], {})
    assert outcome.ok, outcome
    assert ("find", (1,), False) in outcome.events
    assert ("loop", (2,), 2) in outcome.events
    invoice = outcome.world.deref(Ref("Invoice", 1)).values
    assert invoice["total"] == Decimal("375.00")
    amounts = [r.values["amount"] for r in outcome.world.all("InvoiceLine")]
    assert amounts == [Decimal("150.00"), Decimal("225.00")]
    assert all(r.values["billed"] is True for r in outcome.world.all("TimeEntry"))


def test_empty_collections_aggregate_to_zero_or_null() -> None:
    ir = compiled("shop.spec.md")
    world = World(ir)
    world.add(
        "Order",
        {
            "customer_email": "c@example.com",
            "status": "OPEN",
            "total": Decimal("5"),
            "item_count": 1,
            "created_at": REF_NOW,
        },
    )
    outcome = run(ir, "F6", world, [1], {})
    assert outcome.status == 204
    assert outcome.body is None
    order = outcome.world.deref(Ref("Order", 1)).values
    assert (order["total"], order["item_count"]) == (Decimal("0.00"), 0)
    assert order["updated_at"] == REF_NOW  # set on update, as the record changed


def test_comparisons_with_null_and_arithmetic() -> None:
    assert compare("=", None, None)
    assert not compare("=", None, 1)
    assert compare("!=", None, 1)
    assert not compare("!=", None, None)
    assert not compare("<", None, 1)
    assert not compare(">=", 1, None)
    assert arithmetic("/", 1, 4) == Decimal("0.25")
    assert arithmetic("+", REF_TODAY, 2) == REF_TODAY + timedelta(days=2)
    assert arithmetic("-", REF_TODAY + timedelta(days=3), REF_TODAY) == 3
    assert arithmetic("*", 2, Decimal("1.5")) == Decimal("3.0")


def test_overlap_ranges_are_half_open() -> None:
    ir = compiled("rooms.spec.md")
    world = World(ir)
    world.add("Room", {"name": "r1", "floor": 1, "capacity": 4, "has_video": False})

    def booking(hours: int) -> None:
        world.add(
            "Booking",
            {
                "room": 1,
                "booked_by": "a@example.com",
                "seats": 1,
                "starts_at": REF_NOW + timedelta(hours=hours),
                "ends_at": REF_NOW + timedelta(hours=hours + 1),
                "status": "CONFIRMED",
                "created_at": REF_NOW,
            },
        )

    booking(0)
    booking(1)  # starts when the first ends: no overlap
    assert all_hold(ir.behaviour.rules, world)
    world.deref(Ref("Booking", 2)).values["starts_at"] = REF_NOW + timedelta(minutes=30)
    assert [r.id for r in broken(ir.behaviour.rules, world, [Ref("Booking", 2)])] == ["R2"]
    world.deref(Ref("Booking", 1)).values["status"] = "CANCELLED"  # the filter leaves it out
    assert all_hold(ir.behaviour.rules, world)


def test_plain_endpoints_run_as_flows() -> None:
    ir = compiled("library.spec.md")
    create = ir.api.endpoint("F1")
    assert create is not None
    flow = plain_flow(ir, create)
    assert flow is not None
    world = World(ir)
    body = {"title": "t", "isbn": "9780000000000", "author": "a", "total_copies": 3}
    outcome = Interpreter(ir, flow, create, plain=True).run(world, Request([], body))
    assert outcome.status == 201
    book = outcome.world.deref(Ref("Book", 1)).values
    assert (book["available_copies"], book["created_at"]) == (3, REF_NOW)
    again = Interpreter(ir, flow, create, plain=True).run(outcome.world, Request([], body))
    assert (again.status, again.message) == (409, "Book with isbn 9780000000000 already exists")
    entity = ir.domain.entity("Member")
    assert entity is not None
    write, endpoint = orm_write(ir, entity, "update")
    members = library_world(ir)
    outcome = Interpreter(ir, write, endpoint, plain=True).run(
        members, Request([1], {"open_loans": -1})
    )
    assert outcome.broken_rules == ["R2"]
