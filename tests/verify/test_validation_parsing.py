"""How validation reads each tool's machine-readable output (no subprocess here): ruff's
JSON, mypy's JSON lines, pytest's JUnit XML, the syntax script's report, and how the
phase sums the results up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from specloom.spec.compiler import compile_spec
from specloom.verify.checks.common import CheckResult
from specloom.verify.checks.compliance import Tally, expected_fields, percent
from specloom.verify.checks.lint import parse as parse_ruff
from specloom.verify.checks.openapi import body_properties, path_shape
from specloom.verify.checks.suite import best_place, figures_of, read_report
from specloom.verify.checks.suite import parse as parse_junit
from specloom.verify.checks.syntax import parse as parse_syntax
from specloom.verify.checks.typecheck import parse as parse_mypy
from specloom.verify.findings import Finding, Place, Span
from specloom.verify.traceindex import TraceIndex
from specloom.verify.validation import record_of, summary

SPEC = Path(__file__).resolve().parents[2] / "examples" / "library.spec.md"
APP = Path("/work/app")


def span(line: int, start: int, end_line: int, end: int) -> Span:
    return Span(start=Place(line=line, character=start), end=Place(line=end_line, character=end))


def test_ruff_diagnostics_become_findings_with_0_based_ranges_and_relative_paths() -> None:
    diagnostics = [
        {
            "code": "F401",
            "filename": "/work/app/app/types.py",
            "location": {"row": 46, "column": 8},
            "end_location": {"row": 46, "column": 10},
            "message": "`os` imported but unused",
            "name": "unused-import",
            "fix": {"applicability": "safe", "edits": []},
            "url": "https://docs.astral.sh/ruff/rules/unused-import",
        },
        {
            "code": None,
            "filename": "/work/app/tests/test_book.py",
            "location": {"row": 3, "column": 1},
            "end_location": {"row": 3, "column": 5},
            "message": "SyntaxError: Expected an expression",
        },
    ]
    unused, syntax = parse_ruff(diagnostics, APP)
    assert (unused.check, unused.kind, unused.file) == ("ruff", "F401", "app/types.py")
    assert unused.range == span(45, 7, 45, 9)
    assert unused.detail["fixable"] is True
    assert (syntax.kind, syntax.file) == ("syntax-error", "tests/test_book.py")


def test_mypy_json_lines_become_findings_and_notes_join_their_error() -> None:
    output = "\n".join(
        [
            json.dumps(
                {
                    "file": "app/errors.py",
                    "line": 43,
                    "column": 9,
                    "end_line": 43,
                    "end_column": 12,
                    "message": 'Incompatible types in assignment (expression has type "str")',
                    "hint": None,
                    "code": "assignment",
                    "severity": "error",
                }
            ),
            json.dumps(
                {
                    "file": "app/errors.py",
                    "line": 43,
                    "column": 9,
                    "message": "See the docs",
                    "hint": None,
                    "code": None,
                    "severity": "note",
                }
            ),
            "not JSON: a stray line",
        ]
    )
    findings, entries = parse_mypy(output, APP)
    assert entries == 2
    [finding] = findings
    assert (finding.kind, finding.file, finding.severity) == (
        "assignment",
        "app/errors.py",
        "error",
    )
    assert finding.range == span(42, 9, 42, 12)
    assert finding.detail["notes"] == ["See the docs"]


def test_the_syntax_report_gives_0_based_ranges() -> None:
    report = {
        "files": 2,
        "errors": [
            {
                "file": "app/routers/book.py",
                "type": "SyntaxError",
                "message": "'(' was never closed",
                "line": 25,
                "column": 18,
                "end_line": None,
                "end_column": None,
            },
            {"file": "app/x.py", "type": "ValueError", "message": "source code has null bytes"},
        ],
    }
    located, unlocated = parse_syntax(report)
    assert located.file == "app/routers/book.py"
    assert located.range == span(24, 17, 24, 18)
    assert located.message == "'(' was never closed"
    assert unlocated.range is None
    assert unlocated.kind == "syntax-error"


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="2.5">
<testcase classname="tests.test_book" name="test_f1_creates_a_book" file="tests/test_book.py"
  line="29" time="0.1"/>
<testcase classname="tests.test_book" name="test_book_isbn_unique_refuses_a_duplicate[x]"
  file="tests/test_book.py" line="70" time="0.1"><failure message="AssertionError: 409 != 500"
  >E   assert 500 == 409</failure></testcase>
<testcase classname="tests.test_book.TestSkipped" name="test_later" time="0"><skipped
  message="later"/></testcase>
<testcase classname="tests.test_loan" name="test_f8_borrows" file="tests/test_loan.py" line="5"
  time="0.1"><error message="failed on setup with &quot;RuntimeError: db&quot;">E   boom</error>
</testcase>
<testcase classname="" name="tests.test_rules" file="tests/test_rules.py" time="0"><error
  message="collection failure">E   SyntaxError: invalid syntax</error></testcase>
</testsuite></testsuites>
"""

TRACE = {
    "requirements": {
        "errors.duplicate": {
            "code": [],
            "tests": [
                {
                    "path": "tests/test_book.py",
                    "symbol": "test_book_isbn_unique_refuses_a_duplicate",
                    "range": {"start": {"line": 70}, "end": {"line": 90}},
                }
            ],
        },
        "Book.isbn.unique": {
            "spec_range": {
                "start": {"line": 9, "character": 2},
                "end": {"line": 9, "character": 40},
            },
            "code": [],
            "tests": [
                {
                    "path": "tests/test_book.py",
                    "symbol": "test_book_isbn_unique_refuses_a_duplicate",
                    "range": {"start": {"line": 70}, "end": {"line": 90}},
                }
            ],
        },
    }
}


def test_the_junit_report_gives_figures_and_one_finding_per_failing_case(tmp_path: Path) -> None:
    report_file = tmp_path / "junit.xml"
    report_file.write_text(JUNIT, encoding="utf-8")
    report = read_report(report_file)
    trace = TraceIndex.of(TRACE)

    assert figures_of(report, 3.0) == {
        "tests": 4,
        "passed": 1,
        "failed": 1,
        "errors": 2,
        "skipped": 1,
        "seconds": 3.0,
    }
    failed, setup, collection = parse_junit(report, trace, tmp_path)
    # the parametrized test is found by its function's name, and the requirement it
    # names first wins over another that lists it
    assert failed.kind == "test-failed"
    assert failed.file == "tests/test_book.py"
    assert failed.requirement_id == "Book.isbn.unique"
    assert failed.range == Span.lines(70, 89)
    assert failed.detail["requirements"] == ["Book.isbn.unique", "errors.duplicate"]
    assert "409 != 500" in failed.message
    # not in the trace map: the report's line
    assert (setup.kind, setup.file, setup.requirement_id) == (
        "test-error",
        "tests/test_loan.py",
        "",
    )
    assert setup.range == Span.lines(5)
    assert collection.kind == "collection-error"
    assert collection.file == "tests/test_rules.py"
    assert "SyntaxError: invalid syntax" in collection.message


def test_an_unreadable_report_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unreadable JUnit report"):
        read_report(tmp_path / "missing.xml")
    (tmp_path / "bad.xml").write_text("<testsuite", encoding="utf-8")
    with pytest.raises(ValueError, match="unreadable JUnit report"):
        read_report(tmp_path / "bad.xml")


def test_a_test_named_after_nothing_traced_takes_the_first_requirement() -> None:
    trace = TraceIndex.of(TRACE)
    places = trace.symbol("tests/test_book.py", "test_book_isbn_unique_refuses_a_duplicate")
    assert best_place(places, "test_something_else") == places[0]
    assert best_place([], "test_x") is None


def test_compliance_percent_is_rounded_down() -> None:
    assert percent(Tally(75, 75)) == 100.0
    assert percent(Tally(2000, 1999)) == 99.9  # never shown as 100 while something is missing
    assert percent(Tally(75, 74)) == 98.6
    assert percent(Tally(0, 0)) == 100.0


def test_the_fields_each_write_endpoint_must_accept() -> None:
    ir = compile_spec(SPEC.read_text(encoding="utf-8")).ir
    expected = {e.id: expected_fields(ir, e) for e in ir.api.endpoints}
    assert expected["F1"] == ["title", "isbn", "author", "total_copies"]  # no read-only ones
    assert expected["F4"] == ["title", "author", "total_copies"]  # the flow's inputs
    assert expected["F5"] == ["email", "full_name"]
    assert expected["F8"] == ["book_id", "member_id", "due_on"]
    assert expected["F2"] == expected["F3"] == expected["F7"] == []


def test_openapi_bodies_and_paths_are_read_through_references() -> None:
    document = {
        "components": {
            "schemas": {
                "BookCreate": {"properties": {"title": {}}, "allOf": [{"$ref": "#/x/Extra"}]}
            }
        },
        "x": {"Extra": {"properties": {"isbn": {}}}},
    }
    operation = {
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BookCreate"}}}
        }
    }
    assert body_properties(document, operation) == {"title", "isbn"}
    assert body_properties(document, {}) is None
    assert path_shape("/members/{member_id}/loans/") == path_shape("/members/{id}/loans")


def finding(check: str, kind: str, severity: str = "error") -> Finding:
    return Finding.model_validate(
        {"check": check, "kind": kind, "message": "m", "severity": severity}
    )


def test_the_outcome_message_counts_errors_per_kind_and_gives_the_compliance() -> None:
    checks = [
        CheckResult("ruff", [finding("ruff", "F401")]),
        CheckResult("mypy", [finding("mypy", "not-run", "warning")], {"ran": False}),
        CheckResult("tests", [finding("tests", "test-failed")] * 2, {"passed": 73}),
        CheckResult("compliance", [finding("compliance", "missing-endpoint")], {"percent": 98.7}),
    ]
    assert summary(checks) == "1 lint error, 2 failing tests, 1 missing endpoint; compliance 98.7%"
    broken = [
        CheckResult("mypy", [finding("mypy", "check-failed")]),
        CheckResult("tests", [finding("tests", "suite-not-run")]),
    ]
    assert summary(broken) == "mypy did not run, the test suite did not run"
    clean = [
        CheckResult("syntax", [], {"files": 40}),
        CheckResult("mypy", [finding("mypy", "not-run", "warning")], {"ran": False}),
        CheckResult("tests", [], {"passed": 75}),
        CheckResult("compliance", [], {"percent": 100.0}),
    ]
    assert summary(clean) == (
        "75 tests passed, 40 files compiled, lint clean, 1 warning; compliance 100%"
    )


def test_the_store_record_of_a_finding_says_check_and_kind() -> None:
    record = record_of(
        Finding(
            check="tests", kind="test-failed", message="m", file="tests/t.py", requirement_id="F8"
        )
    )
    assert record.kind == "tests:test-failed"
    assert (record.file, record.requirement_id, record.severity) == ("tests/t.py", "F8", "error")
