"""Generation goes through the pattern bank: a second generation with the same bank
reuses every task whose semantic signature did not change, and gives the same tree.
The shell's tasks (`app`, `infra`) are always rendered (`generator.UNSHARED`)."""

from __future__ import annotations

from generated_apps import EXAMPLES
from specloom.codegen.bank import MemoryPatternBank
from specloom.codegen.generator import UNSHARED, Generator
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec


def generate(text: str, bank: MemoryPatternBank) -> tuple[dict[str, str], int]:
    compiled = compile_spec(text)
    plan, _ = make_plan(compiled.ir, "test")
    tree = Generator(compiled.ir, plan, spec_name="library.spec.md", bank=bank).generate()
    return tree, sum(task.kind not in UNSHARED for task in plan.tasks)


def test_a_second_generation_reuses_every_task_and_writes_the_same_tree() -> None:
    text = (EXAMPLES / "library.spec.md").read_text()
    bank = MemoryPatternBank()
    first, tasks = generate(text, bank)
    assert (bank.hits, bank.misses) == (0, tasks)
    second, _ = generate(text, bank)
    assert bank.hits == tasks
    assert second == first


def test_an_edit_renders_again_only_the_tasks_it_touches() -> None:
    text = (EXAMPLES / "library.spec.md").read_text()
    bank = MemoryPatternBank()
    generate(text, bank)
    edited = text.replace('"member is suspended"', '"this member may not borrow"')
    tree, tasks = generate(edited, bank)
    rendered_again = bank.misses - tasks
    assert 0 < rendered_again <= 3  # the flow F8, its endpoint and its tests
    assert "this member may not borrow" in tree["app/services/f8_borrow_a_book.py"]
    assert "this member may not borrow" in tree["tests/test_f8_borrow_a_book.py"]
