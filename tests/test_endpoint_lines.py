"""How an endpoint line is taken apart: `split_line` reads every line as the regular
expression it replaced read it (that expression backtracked at every character of a
line, the slowest part of the Endpoints section), so the same spec compiles to the same
endpoints and the same diagnostics."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from specloom.spec.endpoints import split_line

# The expression `split_line` replaced, kept as the reference.
REFERENCE = re.compile(
    r"^(?P<method>GET|POST|PUT|PATCH|DELETE|CRUD)\s+(?P<path>/\S*?)"
    r"(?::(?:\s+(?P<rest>.*?))?)?\.?\s*$",
    re.IGNORECASE,
)
HEADS = ("GET ", "post  ", "PATCH\t", "CRUD ", "Delete /", "PUT\u00a0/", "GET/", "get", "POST ")
# the characters the reading turns on, blanks beyond ASCII, and some plain ones
CHARACTERS = st.sampled_from([*"ab/:. {}\t-_1", "\u00a0", "\u2028", "\x85", "\u017f"])


def assert_read_alike(line: str) -> None:
    expected = REFERENCE.match(line)
    parts = split_line(line)
    if expected is None:
        assert parts is None
        return
    assert parts is not None
    assert parts.method == expected.group("method")
    assert (parts.path, parts.path_start) == (expected.group("path"), expected.start("path"))
    assert (parts.rest or "") == (expected.group("rest") or "")
    if expected.group("rest"):
        assert parts.rest_start == expected.start("rest")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(HEADS), st.text(CHARACTERS, max_size=16))
@example("GET ", "/books: list books, filter by author, paginated.")
@example("POST ", "/books:. ")
@example("GET ", "/a:b/c: the rest .  ")
@example("CRUD ", "/books")
@example("GET ", "/books x")
def test_an_endpoint_line_is_read_as_the_reference_expression_reads_it(
    head: str, tail: str
) -> None:
    assert_read_alike(head + tail)


def test_every_endpoint_line_of_the_examples_is_read_alike() -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    item = re.compile(
        r"-\s+(?:[A-Z]{1,4}\d+(?:\.\d+)*[.:)]\s+)?(?=(?:GET|POST|PUT|PATCH|DELETE|CRUD)\b)"
    )
    lines = [
        line[found.end() :]
        for path in examples.glob("*.spec.md")
        for line in path.read_text(encoding="utf-8").splitlines()
        if (found := item.match(line))
    ]
    assert len(lines) > 50
    for line in lines:
        assert_read_alike(line)
