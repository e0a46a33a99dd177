"""Bad input: any bytes as a spec give diagnostics, never an exception.

Property tests (hypothesis) prove the compiler total on arbitrary bytes and text, on
"spec-shaped" text assembled from realistic spec lines and fragments, and on mutations of
the example specs: every result carries diagnostics whose ranges lie inside the document
and an ApplicationIR that re-validates and round-trips through JSON. Explicit tests cover
the classic bad files: binary, invalid UTF-8, BOM and CRLF, 10 MB, deep nesting, 100,000
headings, a 1 MB line, empty and whitespace-only files.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from specloom.ir.application import ApplicationIR
from specloom.ir.common import SourceRange
from specloom.spec.compiler import CompileResult, compile_spec
from specloom.spec.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.spec.md"))
LIBRARY = ROOT / "examples" / "library.spec.md"
SEVERITIES = {"error", "warning", "information", "hint"}

FUZZ = settings(
    max_examples=150,
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


@st.composite
def junk_token(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            st.sampled_from(JUNK),
            st.text(max_size=6),
            st.text(alphabet="-*+#>`:{}()|., \t0123456789_", max_size=6),
        )
    )


@st.composite
def words(draw: st.DrawFn, pool: list[str]) -> str:
    """A pool word, sometimes garbled."""
    word = draw(st.sampled_from(pool))
    roll = draw(st.integers(0, 9))
    if roll == 0:
        return word + draw(junk_token())
    if roll == 1:
        return draw(junk_token())
    return word


@st.composite
def sentence(draw: st.DrawFn, pools: list[list[str]], min_size: int = 1) -> str:
    """Words from several pools, joined by varied separators."""
    parts = [draw(words(draw(st.sampled_from(pools)))) for _ in range(draw(st.integers(0, 6)))]
    parts = parts or [""] * min_size
    separators = st.sampled_from([" ", " ", " ", ", ", " and ", "; ", ": ", ""])
    text = parts[0]
    for part in parts[1:]:
        text += draw(separators) + part
    return text


@st.composite
def heading_line(draw: st.DrawFn, entities: list[str]) -> str:
    level = draw(st.sampled_from([1, 2, 2, 2, 3, 3, 3, 3, 4, 6, 7]))
    title = draw(
        st.one_of(
            st.sampled_from(SECTION_TITLES),
            st.sampled_from(entities),
            st.builds(
                lambda i, name: f"F{i}. {name}",
                st.integers(0, 20),
                st.sampled_from(["Borrow a book", "Close", "", "Do it: now"]),
            ),
            st.builds(lambda i: f"R{i}.", st.integers(0, 5)),
            words(ENTITY_NAMES + FIELD_NAMES),
        )
    )
    closing = draw(st.sampled_from(["", "", "", " ##", " #", "#"]))
    return "#" * level + draw(st.sampled_from([" ", " ", "", "\t", "  "])) + title + closing


@st.composite
def field_line(draw: st.DrawFn, entities: list[str]) -> str:
    name = draw(words(FIELD_NAMES))
    kind = draw(st.one_of(st.sampled_from(TYPES), st.sampled_from(entities)))
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["list of ", "set of ", ""])) + draw(st.sampled_from(entities))
    constraints = draw(st.lists(words(CONSTRAINTS), max_size=5))
    colon = draw(st.sampled_from([": ", ":", " : ", " ", "::"]))
    end = draw(st.sampled_from(["", "", ".", ",", " ", ";"]))
    return ", ".join([f"{name}{colon}{kind}", *constraints]) + end


@st.composite
def endpoint_line(draw: st.DrawFn, entities: list[str]) -> str:
    ident = draw(st.sampled_from(["", "F1. ", "F2. ", "F10. ", "F3) ", "F4: ", "X1.2. ", "f1. "]))
    method = draw(st.sampled_from(METHODS))
    segments = draw(st.lists(st.sampled_from(PATH_SEGMENTS), max_size=5))
    if entities and draw(st.booleans()):
        plural = draw(st.sampled_from(entities)).lower() + draw(st.sampled_from(["s", "es", ""]))
        segments = [plural, *segments]
    path = "/" + "/".join(segments)
    clauses = draw(st.lists(words(CLAUSES), max_size=4))
    tail = (": " + ", ".join(clauses)) if clauses else draw(st.sampled_from(["", ":", "."]))
    return f"{ident}{method} {path}{tail}"


@st.composite
def expression(draw: st.DrawFn) -> str:
    return draw(sentence([EXPRESSIONS, FIELD_NAMES, ["+", "-", "*", "/", "(", ")", "."]]))


@st.composite
def condition(draw: st.DrawFn) -> str:
    parts = [
        f"{draw(expression())} {draw(st.sampled_from(COMPARISONS))} {draw(expression())}"
        for _ in range(draw(st.integers(1, 3)))
    ]
    if draw(st.integers(0, 5)) == 0:
        parts.append(f"{draw(st.sampled_from(FIELD_NAMES))} is given")
    joiner = draw(st.sampled_from([" and ", " or ", " and not "]))
    return joiner.join(parts)


@st.composite
def flow_step(draw: st.DrawFn, entities: list[str]) -> str:
    entity = draw(st.sampled_from(entities))
    var = entity.lower()
    field = draw(st.sampled_from(FIELD_NAMES))
    status = draw(st.sampled_from(STATUSES))
    templates = [
        lambda: f'Require {draw(condition())}, else {status} "{draw(st.text(max_size=8))}".',
        lambda: f"Ensure {draw(condition())} otherwise {status}",
        lambda: f"Set {var}.{field} to {draw(expression())}.",
        lambda: f"Set {var}.{field} to {draw(expression())} and {var}.x to now.",
        lambda: f"Set {var}.{field}, {var}.name and {var}.x from the input, where given.",
        lambda: f"Increase {var}.{field} by {draw(expression())}.",
        lambda: f"Decrease {var}.{field} by 1",
        lambda: f"Create a {entity} with {field}, name = {draw(expression())} and x from y.",
        lambda: f"Create an {entity}",
        lambda: f"Find the {entity} of {var}.{field} with status OPEN; if found, use it.",
        lambda: f"Otherwise create a {entity} with {field}.",
        lambda: "Otherwise:",
        lambda: f"For each item in {var}.{field}:",
        lambda: f"For each e in the {entity} records of {var} with {field} false:",
        lambda: f"If {draw(condition())}:",
        lambda: f"If {draw(condition())}, set {var}.{field} to 1.",
        lambda: f"Delete every line of {var}.",
        lambda: f"Remove the {var}.",
        lambda: f"Respond {status} with the {var}.",
        lambda: f'Respond "{draw(st.text(max_size=5))}"',
        lambda: draw(sentence([EXPRESSIONS, FIELD_NAMES, CLAUSES])),
    ]
    return draw(st.sampled_from(templates))()


@st.composite
def rule_line(draw: st.DrawFn, entities: list[str]) -> str:
    entity = draw(st.sampled_from(entities))
    field = draw(st.sampled_from(FIELD_NAMES))
    other = draw(st.sampled_from(FIELD_NAMES))
    ident = draw(st.sampled_from(["", "R1. ", "R2. ", "R1. "]))
    status = draw(st.sampled_from(["", " (422)", ' (409 "overlap")', " (", " (abc)", " (409"]))
    templates = [
        f"A {entity.lower()}'s {field} never exceeds its {other}",
        f"An {entity}'s {field} is after its {other}",
        f"Each {entity}\u2019s {field} is never negative",
        f"A {entity}'s {field} is not the {entity.lower()} itself",
        f"A {entity}'s {field} >= {draw(expression())}",
        f"Two {entity.lower()}s of the same {field} never overlap in time",
        f"Two {entity.lower()}s of the same {field} and {other} never overlap from {field} "
        f"to {other}",
        f"A {entity.lower()} has at most {draw(st.sampled_from(['one', '3', 'x']))} "
        f"{draw(st.sampled_from(entities))} with status DRAFT",
        f"A {entity}'s {field} is {draw(expression())}; one that ends when another starts "
        "does not overlap it",
        f"A {entity}'s {field} is {draw(expression())}; and something else",
        draw(sentence([ENTITY_NAMES, FIELD_NAMES, ["'s", "never", "is", "at most", "Two"]])),
    ]
    return ident + draw(st.sampled_from(templates)) + status + draw(st.sampled_from(["", "."]))


@st.composite
def other_line(draw: st.DrawFn, entities: list[str]) -> str:
    return draw(
        st.sampled_from(
            [
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
                "",
                "",
                "",
            ]
        )
    )


@st.composite
def spec_line(draw: st.DrawFn, entities: list[str]) -> str:
    kind = draw(
        st.sampled_from(
            [
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
                "prose",
                "other",
                "other",
                "junk",
            ]
        )
    )
    if kind == "heading":
        return draw(heading_line(entities))
    if kind == "prose":
        return draw(st.sampled_from(PROSE))
    if kind == "other":
        return draw(other_line(entities))
    if kind == "junk":
        return draw(sentence([JUNK, FIELD_NAMES, ENTITY_NAMES]))
    body = draw(
        {
            "field": field_line(entities),
            "endpoint": endpoint_line(entities),
            "step": flow_step(entities),
            "rule": rule_line(entities),
        }[kind]
    )
    # list items nested at random depths, with the markers and indents Markdown allows
    depth = draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2, 3, 5, 9]))
    unit = draw(st.sampled_from(["  ", "  ", "   ", "    ", "\t", " "]))
    marker = draw(st.sampled_from(["- ", "- ", "- ", "* ", "+ ", "1. ", "2) ", "-", "-\t", ""]))
    if draw(st.integers(0, 12)) == 0:
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(junk_token()) + body[cut:]
    return unit * depth + marker + body


@st.composite
def spec_text(draw: st.DrawFn) -> str:
    """A random document made of realistic spec lines: usually a title, sections in a
    plausible order with entities, endpoints, flows, rules and errors, but with lines
    shuffled, nested, garbled and mixed with junk."""
    entities = draw(st.lists(st.sampled_from(ENTITY_NAMES), min_size=1, max_size=4, unique=True))
    lines: list[str] = []
    if draw(st.integers(0, 5)):
        lines.append("# " + draw(st.sampled_from(["Library", "Room Booking", "", "é 日本"])))
    for section in draw(
        st.lists(st.sampled_from(["Entities", "Endpoints", "Flows", "Rules", "Errors", "Notes"]))
    ):
        lines.append("## " + section)
        if section == "Entities":
            for name in entities:
                lines.append("### " + name)
                lines.extend(draw(st.lists(field_line(entities), max_size=4)))
                lines[-1:] = ["- " + line for line in lines[-1:] if not line.startswith("#")]
        lines.extend(draw(st.lists(spec_line(entities), max_size=12)))
    lines.extend(draw(st.lists(spec_line(entities), max_size=8)))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"]))
    text = newline.join(lines)
    return text + draw(st.sampled_from(["", "\n", "\n\n", newline]))


# --- properties -------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_compile(data: bytes) -> None:
    assert_compiles(data)


@FUZZ
@given(st.text(max_size=2000))
def test_any_text_compiles(text: str) -> None:
    assert_compiles(text)
    assert_compiles(text.encode("utf-8", errors="surrogatepass"))


@settings(FUZZ, max_examples=400)
@given(spec_text())
def test_spec_shaped_text_compiles(text: str) -> None:
    assert_compiles(text)


@settings(FUZZ, max_examples=100)
@given(spec_text())
def test_spec_shaped_bytes_compile(text: str) -> None:
    result = assert_compiles(text.encode("utf-8"))
    assert "SL100" not in codes(result) or "\x00" in text


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """An example spec with random lines deleted, duplicated, swapped, replaced or garbled,
    and maybe truncated at a random byte."""
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
            lines[i] = draw(spec_line(["Book", "Member", "Loan"])).encode("utf-8")
        elif op == "insert":
            lines.insert(i, draw(st.binary(max_size=20)))
        else:
            lines[i] = b"  " * draw(st.integers(1, 4)) + lines[i]
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(FUZZ, max_examples=250)
@given(mutated_example())
def test_mutated_examples_compile(data: bytes) -> None:
    assert_compiles(data)


@settings(FUZZ, max_examples=250)
@given(st.one_of(spec_text(), mutated_example()))
def test_ranges_stay_within_their_lines(data: str | bytes) -> None:
    result = assert_compiles(data)
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
    sl100 = [d for d in result.diagnostics if d.code == "SL100"]
    assert len(sl100) == 1
    assert "UTF-8" in sl100[0].message
    assert [d.code for d in result.diagnostics] == ["SL100"]
    clean = compile_spec(text)
    names = [entity.name for entity in result.ir.domain.entities]
    assert names == ["Book", "Member", "Loan"]
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
        assert result.ir == compile_spec(plain).ir
    bom_text = "\ufeff" + plain.decode("utf-8").replace("\n", "\r\n")
    assert compile_spec(bom_text).diagnostics == []


def _big_spec(target_bytes: int) -> str:
    """Realistic spec lines, repeated with fresh names until the text is big enough."""
    chunks = ["# Big Library\n\nA very large generated spec.\n\n## Entities\n"]
    size = len(chunks[0])
    endpoints: list[str] = []
    flows: list[str] = []
    i = 0
    while size < target_bytes:
        chunk = (
            f"\n### Book{i}\n"
            f"- title: string, required, max length {i % 200 + 1}\n"
            f"- isbn: string, unique, pattern `^97[89][0-9]{{10}}$`\n"
            f"- copies: integer, >= 0, default 1\n"
            f"- status: enum ON_SHELF | LENT, default ON_SHELF, read-only\n"
            f"- shelf: Book{max(i - 1, 0)}, optional\n"
            f"Books are lent and returned; each one must have a title.\n"
        )
        endpoints.append(f"- F{i}. CRUD /book{i}s\n")
        flows.append(
            f'\n### G{i}. Lend a copy\n- Require book{i}.copies > 0, else 409 "none left".\n'
            f"- Decrease book{i}.copies by 1.\n"
        )
        chunks.append(chunk)
        size += len(chunk) + len(endpoints[-1]) + len(flows[-1])
        i += 1
    return "".join([*chunks, "\n## Endpoints\n", *endpoints, "\n## Flows\n", *flows])


def test_ten_megabyte_spec() -> None:
    text = _big_spec(10 * 1024 * 1024)
    data = text.encode("utf-8")
    assert len(data) >= 10 * 1024 * 1024
    result = compile_spec(data, source="big.spec.md")
    assert result.ir.domain.entities
    assert result.diagnostics
    assert all(d.code in CODES for d in result.diagnostics)
    lines = document_lines(data)
    for diagnostic in result.diagnostics[:: max(len(result.diagnostics) // 1000, 1)]:
        assert_inside(diagnostic.range, lines, diagnostic.code)


def test_spec_over_the_size_limit_is_refused_with_sl100() -> None:
    data = b"# Huge\n" + b"x" * (17 * 1024 * 1024)
    result = compile_spec(data)
    assert [d.code for d in result.diagnostics] == ["SL100"]
    assert "MB" in result.diagnostics[0].message
    assert ApplicationIR.model_validate_json(result.ir.model_dump_json()) == result.ir


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("bullets", lambda depth: "  " * depth + "- x: string"),
        ("ordered", lambda depth: "   " * depth + "1. x: string"),
        ("quotes", lambda depth: ">" * (depth + 1) + " x: string"),
        ("mixed", lambda depth: "  " * depth + ("- " if depth % 2 else "* ") + "If x > 1:"),
    ],
)
def test_lists_nested_1000_deep(name: str, line: Any) -> None:
    for section in ("## Entities\n\n### Book\n", "## Flows\n\n### F1. Deep\n", "## Rules\n"):
        text = "# Deep\n\n" + section + "\n".join(line(depth) for depth in range(1000)) + "\n"
        result = assert_compiles(text)
        assert result.diagnostics, name
    text = "# Deep\n\n" + "\n".join("  " * depth + "- item" for depth in range(1000))
    assert "SL104" in codes(assert_compiles(text))


def test_nested_list_under_an_entity_reports_the_nested_lines() -> None:
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
    assert result.diagnostics[-1].range.start.line == 99_999
    assert ApplicationIR.model_validate_json(result.ir.model_dump_json()) == result.ir


def test_one_megabyte_single_line() -> None:
    prose = "word " * 200_000
    result = assert_compiles(prose)
    assert [d.code for d in result.diagnostics] == ["SL101"]
    field = "# Big\n\n## Entities\n\n### Book\n- title: " + "x" * 1_000_000 + "\n"
    result = assert_compiles(field)
    assert "SL201" in codes(result)
    constraints = "# Big\n\n## Entities\n\n### Book\n- title: string, " + "frob, " * 170_000
    result = assert_compiles(constraints)
    assert codes(result)["SL208"] >= 1


@pytest.mark.parametrize("data", [b"", ""])
def test_empty_file(data: bytes | str) -> None:
    result = assert_compiles(data)
    assert [d.code for d in result.diagnostics] == ["SL101"]
    assert bounds(result.diagnostics[0].range) == (0, 0, 0, 0)
    assert not result.ok


@pytest.mark.parametrize(
    "data", [b" ", b"\n\n\n", b" \t \r\n  \n\t", "\u00a0\n \u3000 \n", b"\xef\xbb\xbf  \n"]
)
def test_whitespace_only_file(data: bytes | str) -> None:
    result = assert_compiles(data)
    assert [d.code for d in result.diagnostics] == ["SL101"]
    assert not result.ok


def test_nothing_but_nul_bytes() -> None:
    result = assert_compiles(b"\x00" * 10_000)
    assert Counter(d.code for d in result.diagnostics) == Counter({"SL100": 1, "SL101": 1})


@pytest.mark.parametrize(
    "text",
    [
        "## Entities\n### Book\n- title: string, pattern `" + "(" * 200 + "`\n",
        "## Entities\n### Book\n- title: string, pattern `(a+)+$`\n",
        "## Flows\n### F1. X\n- Require " + "(" * 2000 + "x" + ")" * 2000 + ", else 409\n",
        "## Flows\n### F1. X\n- Set a.b to " + "- " * 5000 + "1\n",
        "## Flows\n### F1. X\n- Set a.b to " + " + ".join(["1"] * 5000) + "\n",
        "## Rules\n- A book's " + "x's " * 2000 + "y is never negative\n",
        "## Endpoints\n- GET /" + "/".join(["books", "{id}"] * 500) + "\n",
    ],
    ids=["pattern-parens", "pattern-redos", "parens", "negations", "sum", "possessives", "path"],
)
def test_pathological_sentences(text: str) -> None:
    result = assert_compiles("# P\n\n## Entities\n\n### Book\n- x: integer\n\n" + text)
    assert result.diagnostics


def test_stray_carriage_returns_and_form_feeds_keep_ranges_inside() -> None:
    text = LIBRARY.read_text("utf-8")
    for odd in ("\r", "\x0c", "\x0b", "\u2028", "\u0085", "\t"):
        assert_compiles(re.sub(r"\n(?=- )", "\n" + odd, text))
