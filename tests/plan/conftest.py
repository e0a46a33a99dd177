"""Shared fixtures of the planning tests: the example specs, compiled once, and a way
to compile a hand-made spec that must be free of errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from specloom.ir.application import ApplicationIR
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STRUCTURED = sorted(path for path in EXAMPLES.glob("*.spec.md") if path.name != "prose.spec.md")

CompileOk = Callable[[str], ApplicationIR]


def _compile_ok(text: str) -> ApplicationIR:
    result = compile_spec(text)
    assert result.errors == [], [d.format("spec") for d in result.errors]
    return result.ir


@pytest.fixture(scope="session")
def compile_ok() -> CompileOk:
    """Compile spec text; fail the test if the spec has errors."""
    return _compile_ok


@pytest.fixture(scope="session")
def example_texts() -> dict[str, str]:
    """Every structured example spec's text, by name (`library`, `shop`, ...)."""
    return {
        path.name.removesuffix(".spec.md"): path.read_text(encoding="utf-8") for path in STRUCTURED
    }


@pytest.fixture(scope="session")
def examples(example_texts: dict[str, str]) -> dict[str, ApplicationIR]:
    return {name: _compile_ok(text) for name, text in example_texts.items()}


@pytest.fixture(scope="session")
def library_text(example_texts: dict[str, str]) -> str:
    return example_texts["library"]


@pytest.fixture(scope="session")
def library(examples: dict[str, ApplicationIR]) -> ApplicationIR:
    return examples["library"]


@pytest.fixture(scope="session")
def shop(examples: dict[str, ApplicationIR]) -> ApplicationIR:
    return examples["shop"]
