"""Record factories of the generated tests (`tests/factories.py`): a test of an entity deep
in a chain of required references calls one factory for what it only needs because of
a reference, instead of spelling out every record of the chain; the suite still passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from generated_apps import generate_tree, run_app_suite, write_tree

DEPTH = 6


def chain_spec(depth: int = DEPTH) -> str:
    """Stage0 <- Stage1 <- ... : each stage requires the one before it (a unique code on
    each), with CRUD endpoints for every stage."""
    lines = ["# Pipeline", "", "## Entities", ""]
    for index in range(depth):
        lines += [
            f"### Stage{index}",
            "- name: string, required, max length 40",
            "- code: string, required, unique, pattern `^[A-Z]{2}[0-9]{3}$`",
            "- created_at: datetime, set on create, read-only",
        ]
        if index:
            lines.append(f"- previous: Stage{index - 1}, required")
        lines.append("")
    lines += ["## Endpoints", ""]
    for index in range(depth):
        lines.append(f"- CRUD /stage{index}s")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def chain_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(generate_tree(chain_spec()), tmp_path_factory.mktemp("chain"))


def test_every_entity_has_a_factory_that_makes_its_chain(chain_app: Path) -> None:
    factories = (chain_app / "tests" / "factories.py").read_text(encoding="utf-8")
    for index in range(DEPTH):
        assert f"def make_stage{index}(db: Session, **fields: Any) -> Stage{index}:" in factories
    assert 'values["previous"] = _first("Stage4") or make_stage4(db)' in factories


def test_a_deep_entity_is_arranged_with_one_factory_call(chain_app: Path) -> None:
    module = (chain_app / "tests" / f"test_stage{DEPTH - 1}.py").read_text(encoding="utf-8")
    assert f"= make_stage{DEPTH - 2}(db)" in module
    # no test of the last stage constructs a record of the first stages itself
    for index in range(DEPTH - 2):
        assert not re.search(rf"\bStage{index}\(", module), f"Stage{index} built by hand"


def test_the_tests_of_the_deepest_entity_pass(chain_app: Path, tmp_path: Path) -> None:
    deepest = f"tests/test_stage{DEPTH - 1}.py"  # the module whose arrangements go deepest
    tests, bad, output = run_app_suite(chain_app, tmp_path / "report.xml", paths=(deepest,))
    assert tests > 15, output
    assert bad == 0, output
