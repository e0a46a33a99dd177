"""A pattern bank serves a task only what rendering it again would give: after an edit
of the spec, a generation that reuses the earlier run's tasks (the language server's
memory, the workspace's library) writes the same tree as one that renders everything.
This holds only if each task's signature covers everything its code is made from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from specloom.codegen.bank import MemoryPatternBank
from specloom.codegen.generator import Generator
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ENTITY = re.compile(r"^### (\w+)\n", re.M)


def compiles(text: str) -> bool:
    return not [d for d in compile_spec(text).diagnostics if d.severity == "error"]


def tree(text: str, bank: MemoryPatternBank | None = None) -> dict[str, str]:
    result = compile_spec(text)
    plan = make_plan(result.ir, "spec")[0]
    return Generator(
        result.ir, plan, spec_name="spec.md", workers=1, bank=bank or MemoryPatternBank()
    ).generate()


def edits(text: str) -> list[tuple[str, str]]:
    """A required field added to each entity in turn (where no flow creates one without
    it), and a new title."""
    found = [
        (
            f"a required field on {match.group(1)}",
            text.replace(
                match.group(0),
                match.group(0) + "- extra_code: string, required, max length 12\n",
                1,
            ),
        )
        for match in ENTITY.finditer(text.split("## Endpoints")[0])
    ]
    title = text.splitlines()[0]
    found = [(what, edited) for what, edited in found if compiles(edited)]
    assert found
    return [*found, ("a new title", text.replace(title, title + " Two", 1))]


@pytest.mark.parametrize("spec", ["library", "todo", "shop"])
def test_a_generation_after_an_edit_reuses_only_what_did_not_change(spec: str) -> None:
    text = (EXAMPLES / f"{spec}.spec.md").read_text(encoding="utf-8")
    for what, edited in edits(text):
        bank = MemoryPatternBank()
        tree(text, bank)
        reused = tree(edited, bank)
        assert bank.hits > 0, what
        fresh = tree(edited)
        assert [p for p in fresh if fresh[p] != reused.get(p)] == [], f"{spec}: {what}"
