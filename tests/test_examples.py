"""The example specs: the structured ones compile clean, the prose one is reported line
by line, and every example's IR is stable (JSON round trip, same IR on every compile)."""

from __future__ import annotations

from pathlib import Path

import pytest
from specloom.ir.application import ApplicationIR
from specloom.spec.compiler import CompileResult, compile_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROSE = EXAMPLES / "prose.spec.md"
ALL_SPECS = sorted(EXAMPLES.glob("*.spec.md"))
STRUCTURED = [path for path in ALL_SPECS if path != PROSE]


def _compile(path: Path) -> CompileResult:
    return compile_spec(path.read_bytes(), str(path))


def _ids(paths: list[Path]) -> list[str]:
    return [path.name.removesuffix(".spec.md") for path in paths]


def _listing(result: CompileResult, path: Path) -> str:
    return "\n".join(diagnostic.format(path.name) for diagnostic in result.diagnostics)


def test_the_examples_are_there() -> None:
    assert PROSE in ALL_SPECS
    assert len(STRUCTURED) >= 6, [path.name for path in STRUCTURED]


@pytest.mark.parametrize("path", STRUCTURED, ids=_ids(STRUCTURED))
def test_structured_example_compiles_without_any_diagnostic(path: Path) -> None:
    result = _compile(path)
    assert result.diagnostics == [], _listing(result, path)
    ir = result.ir
    assert ir.name
    assert ir.description
    assert ir.domain.entities
    assert ir.api.endpoints
    assert ir.validation.requirements


def test_prose_example_says_it_has_nothing_to_compile() -> None:
    result = _compile(PROSE)
    codes = [diagnostic.code for diagnostic in result.diagnostics]
    assert [d.code for d in result.errors] == ["SL101"], _listing(result, PROSE)
    assert set(codes) - {"SL101"} <= {"SL104", "SL105"}, _listing(result, PROSE)
    assert result.ir.domain.entities == []


def test_prose_example_is_reported_line_by_line() -> None:
    result = _compile(PROSE)
    lines = PROSE.read_text(encoding="utf-8").split("\n")
    prose_lines = {
        number
        for number, line in enumerate(lines)
        if line.strip() and not line.lstrip().startswith("#")
    }
    covered: set[int] = set()
    starts: set[int] = set()
    for diagnostic in result.diagnostics:
        if diagnostic.code == "SL101":
            continue
        starts.add(diagnostic.range.start.line)
        covered.update(range(diagnostic.range.start.line, diagnostic.range.end.line + 1))
    assert len(starts) >= 5, _listing(result, PROSE)
    uncovered = sorted(number + 1 for number in prose_lines - covered)
    assert uncovered == [], f"prose lines without a diagnostic: {uncovered}"


@pytest.mark.parametrize("path", ALL_SPECS, ids=_ids(ALL_SPECS))
def test_example_ir_survives_a_json_round_trip(path: Path) -> None:
    ir = _compile(path).ir
    again = ApplicationIR.model_validate_json(ir.model_dump_json())
    assert again.model_dump_json() == ir.model_dump_json()
    assert again == ir, (
        "the JSON is the same but the models differ: state outside the fields "
        "(a private attribute such as a cache) takes part in =="
    )


@pytest.mark.parametrize("path", ALL_SPECS, ids=_ids(ALL_SPECS))
def test_compiling_an_example_twice_gives_the_same_ir(path: Path) -> None:
    first = _compile(path)
    second = _compile(path)
    assert first.ir == second.ir
    assert first.ir.model_dump_json() == second.ir.model_dump_json()
    assert first.diagnostics == second.diagnostics
