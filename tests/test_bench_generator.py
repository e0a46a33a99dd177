"""The generated spec of `python -m bench parse`: big enough and free of errors.

This checks the generator, not the speed: a benchmark on a spec full of errors would
measure the wrong thing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from specloom.ir.application import ApplicationIR
from specloom.spec.compiler import compile_spec

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.parse import TARGET_LINES, generate_spec  # noqa: E402


def test_generated_spec_has_2000_lines_and_no_errors() -> None:
    text = generate_spec()
    assert len(text.splitlines()) >= TARGET_LINES == 2000
    result = compile_spec(text, source="generated")
    assert [d.format("generated") for d in result.errors] == []
    ir = result.ir
    assert len(ir.domain.entities) >= 50
    assert len(ir.api.endpoints) >= 200
    assert len(ir.behaviour.flows) >= 50
    assert len(ir.behaviour.rules) >= 40
    kinds = {endpoint.kind for endpoint in ir.api.endpoints}
    assert {"create", "list", "get", "update", "delete", "action", "delete_children"} <= kinds
    assert all(endpoint.flow for endpoint in ir.api.endpoints if endpoint.kind == "action")
    assert ApplicationIR.model_validate_json(ir.model_dump_json()) == ir


def test_generated_spec_grows_with_the_lines_asked_for() -> None:
    small, large = generate_spec(300), generate_spec(5000)
    assert 300 <= len(small.splitlines()) < len(large.splitlines())
    assert len(large.splitlines()) >= 5000
    assert compile_spec(large).errors == []
