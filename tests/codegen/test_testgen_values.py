"""The test generator's values: regex examples and refusals, samples of every field of
every example spec, and the Python a test writes for them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from specloom.codegen.testgen import regex
from specloom.codegen.testgen.bulk import value_expression
from specloom.codegen.testgen.probes import bound_probe, length_probe, pattern_probe
from specloom.codegen.testgen.pysrc import Clock, Module, py_value, text_source
from specloom.codegen.testgen.slots import arranged_value
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY, candidates, fits, sample
from specloom.ir.application import ApplicationIR
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPECS = sorted(p.name for p in EXAMPLES.glob("*.spec.md") if p.name != "prose.spec.md")

PATTERNS = [
    r"^97[89][0-9]{10}$",
    r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
    r"^[A-Z]{3}-[0-9]{3}$",
    r"^[A-Z0-9-]{4,20}$",
    r"^T-[0-9]{4}$",
    r"(ab|cd)\d\w\s.[^a-c]x*?(?:q)\1",
    r"^[a-z]+@[a-z]+\.(com|org)$",
    r"colou?r",
    r"^\D{2,3}\W\S$",
    r"^(?:[A-F0-9]{2}:){5}[A-F0-9]{2}$",
]


def compiled(name: str) -> ApplicationIR:
    result = compile_spec((EXAMPLES / name).read_text(encoding="utf-8"))
    assert result.errors == []
    return result.ir


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_examples_match_and_differ(pattern: str) -> None:
    examples = regex.distinct_examples(pattern, 5)
    assert examples, pattern
    for text in examples:
        assert re.fullmatch(pattern, text), (pattern, text)
    assert len(set(examples)) == len(examples)
    if len(examples) > 1:
        assert regex.example(pattern, 0) != regex.example(pattern, 1)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_refusals_do_not_match(pattern: str) -> None:
    refused = regex.refused(pattern)
    assert refused is not None
    assert re.search(pattern, refused) is None


def test_regex_examples_keep_length_limits() -> None:
    text = regex.example(r"^[a-z]+$", 0, 5, 9)
    assert text is not None
    assert 5 <= len(text) <= 9
    assert re.fullmatch(r"^[a-z]+$", text)
    assert regex.example(r"^[A-Z]{3}$", 0, 4, None) is None
    assert regex.refused(r".*") is None  # a pattern that takes everything refuses nothing


def test_regex_examples_are_deterministic() -> None:
    first = [regex.example(p, k) for p in PATTERNS for k in range(3)]
    regex.example.cache_clear()
    assert first == [regex.example(p, k) for p in PATTERNS for k in range(3)]


@pytest.mark.parametrize("spec", SPECS)
def test_samples_and_candidates_fit_every_field(spec: str) -> None:
    ir = compiled(spec)
    for entity in ir.domain.entities:
        for item in entity.fields:
            if not item.is_stored or item.type.kind == "reference":
                continue
            record: dict[str, object] = {}
            values = [sample(entity.name, item, k, record) for k in range(3)]
            for value in values:
                assert value is not None, (entity.name, item.name)
                assert fits(item, value), (entity.name, item.name, value)
            if item.unique:
                assert len({str(v) for v in values}) == 3, (entity.name, item.name)
            base = arranged_value(entity.name, item, 0, {})
            for value in candidates(entity.name, item, [1, 3], base):
                assert value is None or fits(item, value), (entity.name, item.name, value)


def test_bound_probes_sit_on_the_bound() -> None:
    item = compiled("shop.spec.md").domain.entity("OrderLine").field("quantity")  # type: ignore[union-attr]
    assert item is not None
    low = bound_probe(item, item.bounds[0], {})
    high = bound_probe(item, item.bounds[1], {})
    assert low is not None
    assert (low.accepted, low.rejected) == (1, 0)
    assert high is not None
    assert (high.accepted, high.rejected) == (99, 100)
    price = compiled("shop.spec.md").domain.entity("Product").field("unit_price")  # type: ignore[union-attr]
    assert price is not None
    strict = bound_probe(price, price.bounds[0], {})
    assert strict is not None
    assert (strict.accepted, strict.rejected) == (Decimal("0.01"), Decimal("0.00"))


def test_length_and_pattern_probes() -> None:
    book = compiled("library.spec.md").domain.entity("Book")
    assert book is not None
    title, isbn = book.field("title"), book.field("isbn")
    assert title is not None
    assert isbn is not None
    probe = length_probe(title, "max_length")
    assert probe is not None
    assert len(probe.accepted) == 200
    assert len(probe.rejected) == 201
    probe = pattern_probe(isbn)
    assert probe is not None
    assert re.fullmatch(str(isbn.pattern), probe.accepted)
    assert re.search(str(isbn.pattern), probe.rejected) is None


def test_values_are_written_relative_to_the_clock() -> None:
    clock = Clock(Module("x"))
    assert py_value(REF_NOW + timedelta(days=1, hours=2), clock) == (
        "now + timedelta(days=1, hours=2)"
    )
    assert py_value(REF_TODAY - timedelta(days=3), clock) == "today - timedelta(days=3)"
    assert py_value(Decimal("12.50"), clock) == 'Decimal("12.50")'
    assert clock.preamble() == ["now = utcnow()", "today = now.date()"]
    assert text_source("x" * 40) == '"x" * 40'
    assert text_source("a" * 31 + "@b.com") == '("a" * 31 + "@b.com")'


def test_loop_values_follow_the_loop_number() -> None:
    clock = Clock(Module("x"))
    assert value_expression([3, 4, 5], clock) == "number + 3"
    assert value_expression(["name 3", "name 4"], clock) == 'f"name {number + 3}"'
    assert value_expression(["A-0009", "A-0010"], clock) == 'f"A-{number + 9:04d}"'
    assert value_expression(["a", "a"], clock) == '"a"'
    assert value_expression(["q", "z"], clock) == '("q", "z")[number]'
