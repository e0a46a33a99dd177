"""Bad input: any bytes as a spec give diagnostics, never an exception.

Property tests (hypothesis) prove the compiler total on arbitrary bytes and text, on
"spec-shaped" text assembled from realistic spec lines and fragments, and on mutations of
the example specs: every result carries diagnostics whose ranges lie inside the document
and an ApplicationIR that re-validates and round-trips through JSON. Explicit tests cover
the classic bad files: binary, invalid UTF-8, BOM and CRLF, 10 MB (refused with SL100) and
a spec just under the size limit, deep nesting, 100,000 headings, 1 MB lines, empty and
whitespace-only files. Bugs these tests found are pinned, shrunk, as regression tests at
the end.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from specloom.ir.application import ApplicationIR
from specloom.ir.common import SourceRange
from specloom.spec.compiler import MAX_SPEC_BYTES, CompileResult, compile_spec
from specloom.spec.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.spec.md"))
LIBRARY = ROOT / "examples" / "library.spec.md"
SEVERITIES = {"error", "warning", "information", "hint"}

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- checking one result --------------------------------------------------------------


def document_lines(data: bytes | str) -> list[str]:
    """The lines of a spec as the user's editor shows them (UTF-8, BOM dropped, any
    line ending), which is what diagnostic ranges point into."""
    if isinstance(data, bytes):
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    else:
        text = data.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def ranges_in(value: Any) -> list[dict[str, Any]]:
    """Every source range in a dumped IR."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if set(item) == {"start", "end"} and isinstance(item["start"], dict):
                found.append(item)
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


Bounds = tuple[int, int, int, int]


def bounds(where: SourceRange | dict[str, Any]) -> Bounds:
    """(start line, start column, end line, end column) of a range or a dumped range."""
    if isinstance(where, dict):
        start, end = where["start"], where["end"]
        return start["line"], start["column"], end["line"], end["column"]
    return where.start.line, where.start.column, where.end.line, where.end.column


def assert_inside(where: SourceRange | dict[str, Any], lines: list[str], what: str) -> None:
    """A range lies within the document: 0 <= line <= number of lines (the position
    just past the end is allowed), columns >= 0, start <= end."""
    start_line, start_column, end_line, end_column = bounds(where)
    for line, column in ((start_line, start_column), (end_line, end_column)):
        assert 0 <= line <= len(lines), f"{what}: line {line} outside the document"
        assert column >= 0, f"{what}: negative column {column}"
    assert (start_line, start_column) <= (end_line, end_column), (
        f"{what}: start after end: {bounds(where)}"
    )


def assert_within_lines(where: SourceRange | dict[str, Any], lines: list[str], what: str) -> None:
    """Stricter: a range's positions point at characters of their line (or just past it)."""
    start_line, start_column, end_line, end_column = bounds(where)
    for line, column in ((start_line, start_column), (end_line, end_column)):
        width = len(lines[line]) if line < len(lines) else 0
        assert column <= width, (
            f"{what}: column {column} past the end of line {line} ({width} characters): "
            f"{bounds(where)}"
        )


def assert_compiles(data: bytes | str) -> CompileResult:
    """Compile `data`: no exception, well-formed diagnostics inside the document, and an
    IR that re-validates and round-trips through JSON to an equal value."""
    result = compile_spec(data, source="fuzz.spec.md")
    lines = document_lines(data)
    for diagnostic in result.diagnostics:
        assert diagnostic.code in CODES, diagnostic
        assert diagnostic.severity in SEVERITIES, diagnostic
        assert diagnostic.message.strip(), diagnostic
        assert_inside(diagnostic.range, lines, f"{diagnostic.code} {diagnostic.message}")
    assert result.ok == (not any(d.severity == "error" for d in result.diagnostics))
    ir = result.ir
    assert isinstance(ir, ApplicationIR)
    dumped = ir.model_dump()
    assert ApplicationIR.model_validate(dumped) == ir
    assert ApplicationIR.model_validate_json(ir.model_dump_json()) == ir
    assert ApplicationIR.model_validate_json(ir.model_dump_json()).model_dump() == dumped
    for rng in ranges_in(dumped):
        assert_inside(rng, lines, "IR node")
    return result


def codes(result: CompileResult) -> Counter[str]:
    return Counter(d.code for d in result.diagnostics)


# --- spec-shaped text -------------------------------------------------------------------

ENTITY_NAMES = [
    "Book",
    "Member",
    "Loan",
    "TimeEntry",
    "Invoice",
    "InvoiceLine",
    "Person",
    "Category",
    "Status",
    "Box",
]
FIELD_NAMES = [
    "title",
    "name",
    "status",
    "email",
    "total",
    "amount",
    "due_on",
    "starts_at",
    "ends_at",
    "count",
    "open_loans",
    "book",
    "member",
    "lines",
    "id",
    "x",
]
SECTION_TITLES = [
    "Entities",
    "Data model",
    "Endpoints",
    "API",
    "Flows",
    "Behaviour",
    "Rules",
    "Invariants",
    "Errors",
    "Overview",
    "Notes",
    "Glossary",
    "Stuff",
    "",
    "Entities!!",
    "ENTITIES",
]
TYPES = [
    "string",
    "str",
    "text",
    "integer",
    "int",
    "decimal",
    "decimal(8,2)",
    "decimal(0,0)",
    "decimal(40,2)",
    "decimal(2,5)",
    "decimal(",
    "boolean",
    "bool",
    "date",
    "datetime",
    "timestamp",
    "uuid",
    "email",
    "url",
    "enum OPEN | CLOSED",
    "enum A|B|C",
    "enum of DRAFT / SENT",
    "enum",
    "enum open | Closed",
    "list of Loan",
    "list of Loan via member",
    "set of Book by book",
    "list of",
    "Book",
    "Member",
    "Nope",
    "strnig",
    "",
]
CONSTRAINTS = [
    "required",
    "optional",
    "unique",
    "unique together with member",
    "unique per book and member",
    "read-only",
    "read only",
    "set on create",
    "set on update",
    "set on create and update",
    "max length 200",
    "min length 3",
    "length 5",
    "length 2..8",
    "length between 9 and 1",
    "at most 10 characters",
    "pattern `^[A-Z]{3}$`",
    "pattern `[unclosed`",
    "pattern `(?P<x`",
    'pattern "abc"',
    "pattern /x+/",
    ">= 1",
    "> 0",
    "<= 12",
    "< -3.5",
    ">= starts_at",
    "after starts_at",
    "before ends_at",
    "at least 0",
    "more than x y z",
    "between 1 and 10",
    "between 10 and 1",
    "between 1.5 and 2",
    "positive",
    "non-negative",
    "default 0",
    "default OPEN",
    "default NOPE",
    "default true",
    "default now",
    "default today",
    'default "x"',
    "defaults to total",
    "defaults to",
    "= 3",
    "frobnicate",
    "",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "CRUD", "get", "FETCH"]
PATH_SEGMENTS = [
    "books",
    "members",
    "loans",
    "entries",
    "time-entries",
    "invoices",
    "lines",
    "people",
    "categories",
    "boxes",
    "{id}",
    "{book_id}",
    "{member_id}",
    "{x}",
    "suspend",
    "return",
    "Books",
    "",
    "{",
]
CLAUSES = [
    "list books",
    "create a book",
    "update title, author and status",
    "filter by author",
    "filter by status and done",
    "paginated",
    "paginated (page size 20)",
    "page size 0",
    "ordered by code",
    "ordered by -created_at",
    "sorted by title descending",
    "except delete",
    "without update",
    "whatever",
]
EXPRESSIONS = [
    "0",
    "1",
    "-1",
    "3.5",
    '"text"',
    "true",
    "false",
    "now",
    "today",
    "OPEN",
    "CLOSED",
    "book.total_copies",
    "loan.book.available_copies",
    "member.open_loans + 1",
    "a * b - c / d",
    "(x + 1) * 2",
    "count of project.invoices with status DRAFT",
    "sum of line.amount over invoice.lines",
    "max of entry.hours over project.entries with billed false",
    "- -x",
    "((((",
    "",
]
COMPARISONS = [
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "is",
    "is not",
    "is after",
    "is at least",
    "exceeds",
]
STATUSES = ["200", "201", "400", "404", "409", "422", "999", "42", "abc", ""]
JUNK = [
    "",
    " ",
    "\t",
    "  \t ",
    "`",
    "``",
    "```",
    '"',
    "'s",
    "\u2019s",
    "{",
    "}",
    "{}",
    "(",
    ")",
    ":",
    "::",
    ";",
    ",",
    ".",
    "...",
    "|",
    "\\",
    "*",
    "**",
    "_",
    "#",
    "-",
    "+",
    ">",
    "<",
    "<!--",
    "-->",
    "<div>",
    "---",
    "===",
    "1.",
    "1)",
    "[x]",
    "[link](http://x)",
    "&amp;",
    "\x00",
    "\x0b",
    "\x0c",
    "\u00a0",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\ufffd",
    "é",
    "ß",
    "İ",
    "Ⅻ",
    "日本語",
    "🙂",
    "👩\u200d💻",
    "\U0001d4b3",
    "a\u0301",
    "\u202e",
]
PROSE = [
    "A lending service for a community library.",
    "Members must never borrow more than three books.",
    "We need a small backend; it should be fast!",
    "Each room has a name that must be unique",
    "This is just prose.",
    "Nothing here is required? Maybe.",
]


OTHER_LINES = [
    "Input: title, author, total_copies (each optional)",
    "Input: book_id, member_id (integer), due_on (optional)",
    "Inputs: (, ), 3x",
    "- An unknown id in the path or in a reference answers 404.",
    "- A duplicate value of a unique field answers 409.",
    "- A conflict answers 200.",
    "- A broken rule returns 42.",
    "- unique together: book and member.",
    "```",
    "```python",
    "~~~",
    "    indented code",
    "> a quote",
    "> > > nested quote",
    "---",
    "***",
    "===",
    "| a | b |",
    "|---|---|",
    "<div>",
    "</div>",
    "<!-- comment",
    "[ref]: http://example.com",
]

# Fragments are built by plain functions from a seeded `random.Random`: hypothesis draws
# the document's structure (which lines, their kind, nesting and list markers) and one
# seed per line, so it generates quickly and still shrinks a failure to a few lines.


def junk(rnd: random.Random) -> str:
    roll = rnd.random()
    if roll < 0.6:
        return rnd.choice(JUNK)
    if roll < 0.8:
        return "".join(
            rnd.choice("-*+#>`:{}()|., \t0123456789_'\"") for _ in range(rnd.randint(1, 5))
        )
    code_points = [
        rnd.choice(
            [rnd.randint(0x20, 0x7E), rnd.randint(0xA0, 0x2FFF), rnd.randint(0xE000, 0x10FFFF)]
        )
        for _ in range(rnd.randint(1, 4))
    ]
    return "".join(chr(c) for c in code_points)


def word(rnd: random.Random, pool: list[str]) -> str:
    """A pool word, sometimes garbled."""
    chosen = rnd.choice(pool)
    roll = rnd.random()
    if roll < 0.08:
        return chosen + junk(rnd)
    if roll < 0.12:
        return junk(rnd)
    return chosen


def sentence(rnd: random.Random, *pools: list[str]) -> str:
    parts = [word(rnd, rnd.choice(pools)) for _ in range(rnd.randint(1, 7))]
    text = parts[0]
    for part in parts[1:]:
        text += rnd.choice([" ", " ", " ", ", ", " and ", "; ", ": ", ""]) + part
    return text


def heading_line(rnd: random.Random, entities: list[str]) -> str:
    level = rnd.choice([1, 2, 2, 2, 3, 3, 3, 3, 4, 6, 7])
    roll = rnd.random()
    if roll < 0.3:
        title = rnd.choice(SECTION_TITLES)
    elif roll < 0.6:
        title = rnd.choice(entities)
    elif roll < 0.8:
        title = f"F{rnd.randint(0, 20)}. " + rnd.choice(["Borrow a book", "Close", "", "Do: it"])
    else:
        title = sentence(rnd, ENTITY_NAMES, FIELD_NAMES, JUNK)
    space = rnd.choice([" ", " ", " ", "", "\t", "  "])
    return "#" * level + space + title + rnd.choice(["", "", "", " ##", " #", "#"])


def field_line(rnd: random.Random, entities: list[str]) -> str:
    name = word(rnd, FIELD_NAMES)
    roll = rnd.random()
    if roll < 0.6:
        kind = word(rnd, TYPES)
    elif roll < 0.9:
        kind = rnd.choice(["", "", "list of ", "set of "]) + rnd.choice(entities)
    else:
        kind = junk(rnd)
    constraints = [word(rnd, CONSTRAINTS) for _ in range(rnd.choice([0, 1, 1, 2, 2, 3, 5]))]
    colon = rnd.choice([": ", ": ", ": ", ":", " : ", " ", "::"])
    end = rnd.choice(["", "", "", ".", ",", " ", ";"])
    return ", ".join([f"{name}{colon}{kind}", *constraints]) + end


def endpoint_line(rnd: random.Random, entities: list[str]) -> str:
    ident = rnd.choice(["", "F1. ", "F2. ", "F10. ", "F3) ", "F4: ", "X1.2. ", "f1. "])
    segments = [word(rnd, PATH_SEGMENTS) for _ in range(rnd.randint(0, 5))]
    if rnd.random() < 0.6:
        entity = rnd.choice(entities).lower()
        segments.insert(0, entity + rnd.choice(["s", "s", "es", "", "ies"]))
    path = "/" + "/".join(segments)
    clauses = [word(rnd, CLAUSES) for _ in range(rnd.randint(0, 4))]
    tail = (": " + ", ".join(clauses)) if clauses else rnd.choice(["", ":", "."])
    return f"{ident}{word(rnd, METHODS)} {path}{tail}"


def expression(rnd: random.Random) -> str:
    return sentence(rnd, EXPRESSIONS, EXPRESSIONS, FIELD_NAMES, ["+", "-", "*", "/", "(", ")"])


def condition(rnd: random.Random) -> str:
    parts = [
        f"{expression(rnd)} {rnd.choice(COMPARISONS)} {expression(rnd)}"
        for _ in range(rnd.randint(1, 3))
    ]
    if rnd.random() < 0.2:
        parts.append(f"{rnd.choice(FIELD_NAMES)} is given")
    return rnd.choice([" and ", " or ", " and not "]).join(parts)


def flow_step(rnd: random.Random, entities: list[str]) -> str:
    entity = rnd.choice(entities)
    var = entity.lower()
    field = rnd.choice(FIELD_NAMES)
    status = rnd.choice(STATUSES)
    templates = [
        lambda: f'Require {condition(rnd)}, else {status} "{junk(rnd)}".',
        lambda: f"Ensure {condition(rnd)} otherwise {status}",
        lambda: f"Set {var}.{field} to {expression(rnd)}.",
        lambda: f"Set {var}.{field} to {expression(rnd)} and {var}.x to now.",
        lambda: f"Set {var}.{field}, {var}.name and {var}.x from the input, where given.",
        lambda: f"Increase {var}.{field} by {expression(rnd)}.",
        lambda: f"Decrease {var}.{field} by 1",
        lambda: f"Create a {entity} with {field}, name = {expression(rnd)} and x from y.",
        lambda: f"Create an {entity}",
        lambda: f"Find the {entity} of {var}.{field} with status OPEN; if found, use it.",
        lambda: f"Otherwise create a {entity} with {field}.",
        lambda: "Otherwise:",
        lambda: f"For each item in {var}.{field}:",
        lambda: f"For each e in the {entity} records of {var} with {field} false:",
        lambda: f"If {condition(rnd)}:",
        lambda: f"If {condition(rnd)}, set {var}.{field} to 1.",
        lambda: f"Delete every line of {var}.",
        lambda: f"Remove the {var}.",
        lambda: f"Respond {status} with the {var}.",
        lambda: f'Respond "{junk(rnd)}"',
        lambda: sentence(rnd, EXPRESSIONS, FIELD_NAMES, CLAUSES),
    ]
    return rnd.choice(templates)()


def rule_line(rnd: random.Random, entities: list[str]) -> str:
    entity = rnd.choice(entities)
    lower = entity.lower()
    field, other = rnd.choice(FIELD_NAMES), rnd.choice(FIELD_NAMES)
    ident = rnd.choice(["", "R1. ", "R2. ", "R1. "])
    status = rnd.choice(["", "", " (422)", ' (409 "overlap")', " (", " (abc)", " (409"])
    templates = [
        lambda: f"A {lower}'s {field} never exceeds its {other}",
        lambda: f"An {entity}'s {field} is after its {other}",
        lambda: f"Each {entity}\u2019s {field} is never negative",
        lambda: f"A {entity}'s {field} is not the {lower} itself",
        lambda: f"A {entity}'s {field} >= {expression(rnd)}",
        lambda: f"Two {lower}s of the same {field} never overlap in time",
        lambda: f"No two {lower}s of the same {field} overlap",
        lambda: (
            f"Two {lower}s of the same {field} and {other} never overlap from {field} to {other}"
        ),
        lambda: (
            f"A {lower} has at most {rnd.choice(['one', '3', 'x'])} "
            f"{rnd.choice(entities)} with status DRAFT"
        ),
        lambda: (
            f"A {entity}'s {field} is {expression(rnd)}; one that ends when another "
            "starts does not overlap it"
        ),
        lambda: f"A {entity}'s {field} is {expression(rnd)}; and something else",
        lambda: sentence(rnd, ENTITY_NAMES, FIELD_NAMES, ["'s", "never", "is", "at most", "Two"]),
    ]
    return ident + rnd.choice(templates)() + status + rnd.choice(["", "."])


def prose_line(rnd: random.Random, entities: list[str]) -> str:
    return rnd.choice(PROSE) if rnd.random() < 0.7 else sentence(rnd, PROSE, FIELD_NAMES)


def other_line(rnd: random.Random, entities: list[str]) -> str:
    return rnd.choice(OTHER_LINES)


def junk_line(rnd: random.Random, entities: list[str]) -> str:
    return sentence(rnd, JUNK, FIELD_NAMES, ENTITY_NAMES)


def blank_line(rnd: random.Random, entities: list[str]) -> str:
    return rnd.choice(["", "", " ", "\t"])


LINE_MAKERS: dict[str, Callable[[random.Random, list[str]], str]] = {
    "blank": blank_line,
    "prose": prose_line,
    "heading": heading_line,
    "field": field_line,
    "endpoint": endpoint_line,
    "step": flow_step,
    "rule": rule_line,
    "other": other_line,
    "junk": junk_line,
}
LISTED = frozenset({"field", "endpoint", "step", "rule"})
# the kinds in the proportions they are drawn (hypothesis shrinks towards the first)
LINE_KINDS = [
    "blank",
    "prose",
    "heading",
    "heading",
    "field",
    "field",
    "field",
    "endpoint",
    "endpoint",
    "step",
    "step",
    "step",
    "rule",
    "rule",
    "other",
    "junk",
]
SEEDS = st.integers(0, 2**24)


@st.composite
def spec_line(draw: st.DrawFn, entities: list[str]) -> str:
    kind = draw(st.sampled_from(LINE_KINDS))
    rnd = random.Random(draw(SEEDS))
    body = LINE_MAKERS[kind](rnd, entities)
    if kind not in LISTED:
        return body
    # list items nested at random depths, with the markers and indents Markdown allows
    depth = draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2, 3, 5, 9]))
    unit = draw(st.sampled_from(["  ", "  ", "   ", "    ", "\t", " "]))
    marker = draw(st.sampled_from(["- ", "- ", "- ", "* ", "+ ", "1. ", "2) ", "-", "-\t", ""]))
    return unit * depth + marker + body


@st.composite
def spec_text(draw: st.DrawFn) -> str:
    """A random document made of realistic spec lines: usually a title and sections with
    entities and their fields, endpoints, flow steps, rules and error lines, mixed with
    prose, headings, Markdown blocks and junk, nested and garbled at random."""
    entities = draw(st.lists(st.sampled_from(ENTITY_NAMES), min_size=1, max_size=4, unique=True))
    lines: list[str] = []
    if draw(st.integers(0, 5)):
        lines.append("# " + draw(st.sampled_from(["Library", "Room Booking", "", "é 日本"])))
    sections = st.sampled_from(["Entities", "Endpoints", "Flows", "Rules", "Errors", "Notes"])
    for section in draw(st.lists(sections, max_size=6)):
        lines.append("## " + section)
        if section == "Entities":
            for name in entities:
                lines.append("### " + name)
                for seed in draw(st.lists(SEEDS, max_size=4)):
                    lines.append("- " + field_line(random.Random(seed), entities))
        lines.extend(draw(st.lists(spec_line(entities), max_size=12)))
    lines.extend(draw(st.lists(spec_line(entities), max_size=6)))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"]))
    return newline.join(lines) + draw(st.sampled_from(["", "\n", "\n\n", newline]))


# --- properties -------------------------------------------------------------------------

# Bugs the properties found, shrunk to a few lines; each has a regression test below and
# stays pinned as an explicit example of the property that found it.
UNDECLARED_COLLECTION_PATH = (
    b"## Entities\n### Room\n- bookings: list of Booking\n"
    b"## Endpoints\n- GET /rooms/{id}/bookings\n"
)
TAB_CONTINUATION = "## Endpoints\n* a\n\t\t\tb c"


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_compile(data: bytes) -> None:
    assert_compiles(data)


@settings(FUZZ, max_examples=300)
@given(st.text(max_size=3000))
def test_any_text_compiles(text: str) -> None:
    assert_compiles(text)
    assert_compiles(text.encode("utf-8"))


@settings(FUZZ, max_examples=1000)
@given(spec_text())
def test_spec_shaped_text_compiles(text: str) -> None:
    assert_compiles(text)


@settings(FUZZ, max_examples=200)
@given(spec_text())
def test_spec_shaped_bytes_compile(text: str) -> None:
    data = text.encode("utf-8")
    result = assert_compiles(data)
    if "\x00" not in text:
        assert "SL100" not in codes(result)
    assert compile_spec(data).diagnostics == compile_spec(text).diagnostics


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """An example spec with random lines deleted, duplicated, swapped, replaced, inserted or
    indented, and maybe truncated at a random byte."""
    data = draw(st.sampled_from(EXAMPLES)).read_bytes()
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert", "indent"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "replace":
            lines[i] = draw(spec_line(["Book", "Member", "Loan", "Room"])).encode("utf-8")
        elif op == "insert":
            lines.insert(i, draw(st.binary(max_size=20)))
        else:
            lines[i] = b"  " * draw(st.integers(1, 4)) + lines[i]
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(FUZZ, max_examples=300)
@given(mutated_example())
@example(UNDECLARED_COLLECTION_PATH)
def test_mutated_examples_compile(data: bytes) -> None:
    assert_compiles(data)


@settings(FUZZ, max_examples=300)
@given(spec_text())
@example(TAB_CONTINUATION)
def test_ranges_stay_within_their_lines(data: str) -> None:
    result = compile_spec(data)
    lines = document_lines(data)
    for diagnostic in result.diagnostics:
        assert_within_lines(diagnostic.range, lines, f"{diagnostic.code} {diagnostic.message}")
    for rng in ranges_in(result.ir.model_dump()):
        assert_within_lines(rng, lines, "IR node")


# --- explicit bad files ------------------------------------------------------------------


def test_random_binary_with_nul_bytes() -> None:
    rng = random.Random(20240601)
    data = rng.randbytes(64 * 1024) + b"\x00" * 100 + rng.randbytes(1024)
    result = assert_compiles(data)
    assert "SL100" in codes(result)
    assert not result.ok
    assert any("NUL" in d.message for d in result.diagnostics if d.code == "SL100")


def test_png_file() -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    result = assert_compiles(png)
    assert codes(result)["SL100"] >= 1
    assert not result.ok


def test_invalid_utf8_is_reported_and_the_rest_still_compiles() -> None:
    text = LIBRARY.read_bytes()
    broken = text.replace(b"community library", b"community \xff\xfe library", 1)
    result = assert_compiles(broken)
    assert [d.code for d in result.diagnostics] == ["SL100"]
    assert "UTF-8" in result.diagnostics[0].message
    clean = compile_spec(text)
    assert [entity.name for entity in result.ir.domain.entities] == ["Book", "Member", "Loan"]
    assert result.ir.domain == clean.ir.domain
    assert result.ir.api == clean.ir.api
    assert result.ir.behaviour == clean.ir.behaviour


def test_invalid_utf8_in_a_field_line_still_compiles_the_other_fields() -> None:
    text = LIBRARY.read_bytes().replace(b"- author: string", b"- auth\xc3or: string", 1)
    result = assert_compiles(text)
    assert "SL100" in codes(result)
    book = result.ir.domain.entity("Book")
    assert book is not None
    assert {"title", "isbn", "total_copies"} <= {field.name for field in book.fields}


def test_bom_and_crlf_compile_like_the_plain_file() -> None:
    plain = LIBRARY.read_bytes()
    assert compile_spec(plain).diagnostics == []
    for variant in (
        b"\xef\xbb\xbf" + plain,
        plain.replace(b"\n", b"\r\n"),
        b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n"),
        plain.replace(b"\n", b"\r"),
    ):
        result = assert_compiles(variant)
        assert result.diagnostics == []
        assert result.ir == compile_spec(plain, source="fuzz.spec.md").ir
    bom_text = "\ufeff" + plain.decode("utf-8").replace("\n", "\r\n")
    assert compile_spec(bom_text).diagnostics == []


NOTES = (
    "Members borrow copies of books and return them within three weeks. Librarians suspend "
    "a member who returns late twice.\nThe catalogue lists every copy with its shelf and its "
    "condition, and the desk staff keep it up to date.\n\n"
)


def _big_spec(target_bytes: int, structured_bytes: int = 1_000_000) -> str:
    """Realistic spec lines, repeated with fresh names: about `structured_bytes` of
    entities with a paragraph and varied fields, their endpoints, a rule each and a flow
    for the first ones (one entity in a thousand has a typo in a type, so there is
    something to report), then notes in prose up to `target_bytes`."""
    head = "# Big Library\n\nA very large generated spec.\n\n## Entities\n"
    entities: list[str] = [head]
    endpoints: list[str] = ["\n## Endpoints\n"]
    flows: list[str] = ["\n## Flows\n"]
    rules: list[str] = ["\n## Rules\n"]
    size = len(head)
    i = 0
    while size < min(structured_bytes, target_bytes):
        typo = "strnig" if i % 1000 == 999 else "string"
        chunks = [
            f"\n### Book{i}\n\nBooks are lent and returned; each one must have a title.\n\n"
            f"- title: {typo}, required, max length {i % 200 + 1}\n"
            f"- isbn: string, unique, pattern `^97[89][0-9]{{10}}$`\n"
            f"- copies: integer, >= 0, default 1\n"
            f"- price: decimal(8,2), between 0 and 1000\n"
            f"- status: enum ON_SHELF | LENT, default ON_SHELF\n"
            f"- shelf: Book{max(i - 1, 0)}, optional\n",
            f"- B{i}. CRUD /book{i}s: filter by title, paginated (page size 20), except update\n"
            f"- L{i}. PATCH /book{i}s/{{id}}: lend a copy\n",
            f"- R{i}. A book{i}'s copies is never negative.\n",
            f"\n### L{i}. Lend a copy\n"
            f'- Require book{i}.copies > 0, else 409 "no copy left".\n'
            f"- Decrease book{i}.copies by 1.\n"
            f"- Set book{i}.status to LENT.\n"
            if i < 50
            else "",
        ]
        for part, chunk in zip((entities, endpoints, rules, flows), chunks, strict=True):
            part.append(chunk)
            size += len(chunk)
        i += 1
    notes = "\n## Notes\n\n" + NOTES * max((target_bytes - size) // len(NOTES) + 1, 0)
    return "".join([*entities, *endpoints, *flows, *rules, notes])


def test_ten_megabyte_spec() -> None:
    data = _big_spec(10 * 1024 * 1024).encode("utf-8")
    assert len(data) >= 10 * 1024 * 1024 > MAX_SPEC_BYTES
    result = assert_compiles(data)
    assert [d.code for d in result.diagnostics] == ["SL100"]
    assert "MB" in result.diagnostics[0].message
    assert not result.ok


def test_spec_just_under_the_size_limit_compiles() -> None:
    data = _big_spec(MAX_SPEC_BYTES - 4096).encode("utf-8")
    assert MAX_SPEC_BYTES - 4096 <= len(data) <= MAX_SPEC_BYTES
    result = compile_spec(data, source="big.spec.md")
    counted = codes(result)
    assert "SL100" not in counted
    assert len(result.ir.domain.entities) > 1000
    typos = [d for d in result.diagnostics if d.code == "SL201"]
    assert typos
    assert all("strnig" in d.message for d in typos)
    assert all(d.severity != "error" or d.code in ("SL201", "SL305") for d in result.diagnostics)
    lines = document_lines(data)
    for diagnostic in result.diagnostics:
        assert_inside(diagnostic.range, lines, diagnostic.code)


@pytest.mark.parametrize(
    "line",
    [
        lambda depth: "  " * depth + "- x: string",
        lambda depth: "   " * depth + "1. x: string",
        lambda depth: ">" * (depth + 1) + " x: string",
        lambda depth: "  " * depth + ("- " if depth % 2 else "* ") + "If x > 1:",
    ],
    ids=["bullets", "ordered", "quotes", "mixed"],
)
@pytest.mark.parametrize(
    "section",
    ["## Entities\n\n### Book\n", "## Flows\n\n### F1. Deep\n", "## Rules\n", ""],
    ids=["entities", "flows", "rules", "preamble"],
)
def test_lists_nested_1000_deep(section: str, line: Callable[[int], str]) -> None:
    text = "# Deep\n\n" + section + "\n".join(line(depth) for depth in range(1000)) + "\n"
    result = assert_compiles(text)
    assert result.diagnostics


def test_nested_fields_are_reported_not_compiled() -> None:
    text = "# Deep\n\n## Entities\n\n### Book\n" + "\n".join(
        "  " * depth + f"- f{depth}: string" for depth in range(1000)
    )
    result = assert_compiles(text)
    book = result.ir.domain.entity("Book")
    assert book is not None
    assert [field.name for field in book.fields] == ["f0"]
    assert "SL104" in codes(result)


def test_one_hundred_thousand_headings() -> None:
    text = "".join(f"## Heading {i}\n" for i in range(100_000))
    result = compile_spec(text)
    counted = codes(result)
    assert counted["SL102"] == 100_000
    assert counted["SL101"] == 1
    assert max(d.range.start.line for d in result.diagnostics) == 99_999
    assert ApplicationIR.model_validate_json(result.ir.model_dump_json()) == result.ir


def test_one_hundred_thousand_entity_headings() -> None:
    text = "## Entities\n" + "".join(f"### Thing{i}\n" for i in range(100_000))
    result = compile_spec(text)
    assert codes(result)["SL214"] == 100_000
    assert len(result.ir.domain.entities) == 100_000


def test_one_megabyte_single_line() -> None:
    prose = "word " * 200_000
    result = assert_compiles(prose)
    assert "SL101" in codes(result)
    assert all(d.range.start.line == d.range.end.line == 0 for d in result.diagnostics)
    field = "# Big\n\n## Entities\n\n### Book\n- title: " + "x" * 1_000_000 + "\n"
    assert "SL201" in codes(assert_compiles(field))
    constraints = "# Big\n\n## Entities\n\n### Book\n- title: string, " + "frob, " * 170_000
    assert codes(assert_compiles(constraints))["SL208"] >= 1
    endpoint = "# Big\n\n## Entities\n\n### Book\n- x: int\n\n## Endpoints\n- GET /" + "a" * 10**6
    assert "SL302" in codes(assert_compiles(endpoint))


@pytest.mark.parametrize("data", [b"", ""], ids=["bytes", "str"])
def test_empty_file(data: bytes | str) -> None:
    result = assert_compiles(data)
    assert [d.code for d in result.diagnostics] == ["SL101"]
    assert bounds(result.diagnostics[0].range) == (0, 0, 0, 0)
    assert not result.ok


@pytest.mark.parametrize(
    "data",
    [b" ", b"\n\n\n", b" \t \r\n  \n\t", b"\xef\xbb\xbf  \n", "\ufeff\r\n\r\n"],
)
def test_whitespace_only_file(data: bytes | str) -> None:
    result = assert_compiles(data)
    assert [d.code for d in result.diagnostics] == ["SL101"]
    assert not result.ok


def test_nothing_but_nul_bytes() -> None:
    result = assert_compiles(b"\x00" * 10_000)
    assert codes(result) == Counter({"SL100": 1, "SL101": 1})


HEAD = "# P\n\n## Entities\n\n### Book\n- x: integer\n\n"


@pytest.mark.parametrize(
    "text",
    [
        "## Entities\n### Box\n- title: string, pattern `" + "(" * 200 + "`\n",
        "## Entities\n### Box\n- title: string, pattern `(a+)+$`\n",
        "## Flows\n### F1. X\n- Require " + " and ".join(["x > 1"] * 5000) + ", else 409\n",
        "## Flows\n### F1. X\n- Set a.b to " + "1 " * 20_000 + "\n",
        "## Rules\n- A book's " + "x's " * 2000 + "y is never negative\n",
        "## Endpoints\n- GET /" + "/".join(["books", "{id}"] * 500) + "\n",
        "## Endpoints\n- GET /books" + "/{id}" * 500 + "\n",
        "## Flows\n### F1. X\n" + "- Otherwise:\n" * 2000,
        "## Flows\n### F1. X\n- If x > 1, respond 200\n- " + "Otherwise, " * 2000 + "respond\n",
    ],
    ids=[
        "pattern-parens",
        "pattern-redos",
        "many-ands",
        "many-numbers",
        "possessives",
        "long-path",
        "many-params",
        "otherwise",
        "otherwise-chain",
    ],
)
def test_pathological_sentences(text: str) -> None:
    assert_compiles(HEAD + text)


def test_stray_control_characters_keep_ranges_inside() -> None:
    text = LIBRARY.read_text("utf-8")
    for odd in ("\r", "\x0c", "\x0b", "\u2028", "\u0085", "\t", "\x1b[31m"):
        assert_compiles(re.sub(r"\n(?=- )", "\n" + odd, text))


# --- known bugs, shrunk -----------------------------------------------------------------


def test_path_through_a_collection_of_an_undeclared_entity() -> None:
    result = compile_spec(UNDECLARED_COLLECTION_PATH)
    assert "SL201" in codes(result) or "SL204" in codes(result) or "SL302" in codes(result)


def test_tab_indented_continuation_line_stays_within_its_line() -> None:
    result = compile_spec(TAB_CONTINUATION)
    assert codes(result)["SL301"] == 1
    lines = document_lines(TAB_CONTINUATION)
    for diagnostic in result.diagnostics:
        assert_within_lines(diagnostic.range, lines, diagnostic.code)


@pytest.mark.parametrize(
    "text",
    [
        "## Flows\n### F1. X\n- Require " + "(" * 300 + "x" + ")" * 300 + ", else 409\n",
        "## Rules\n- A book's x >= " + "(" * 300 + "1" + ")" * 300 + "\n",
        "## Flows\n### F1. X\n- Set a.b to " + "- " * 1000 + "1\n",
        "## Flows\n### F1. X\n- Require " + "(" * 300 + ", else 409\n",
        "## Flows\n### F1. X\n- " + "If x > 1, " * 1000 + "respond 200\n",
    ],
    ids=["guard-parens", "rule-parens", "negations", "unclosed-parens", "if-chain"],
)
def test_deeply_nested_expression_gives_a_diagnostic(text: str) -> None:
    result = compile_spec(HEAD + text)
    assert result.diagnostics


@pytest.mark.parametrize("terms", [191, 300])
def test_long_sum_round_trips_through_json(terms: int) -> None:
    text = HEAD + "## Flows\n### F1. X\n- Set a.b to " + " + ".join(["1"] * terms) + "\n"
    assert_compiles(text)


@pytest.mark.parametrize("blank", ["\u00a0", "\x0c"], ids=["nbsp", "form-feed"])
def test_paragraph_after_a_unicode_whitespace_line_keeps_its_line(blank: str) -> None:
    text = f"## Notes\n{blank}\nWe must do it."
    result = compile_spec(text)
    [sentence] = [d for d in result.diagnostics if d.code == "SL105"]
    assert bounds(sentence.range) == (2, 0, 2, len("We must do it."))
