"""Test modules rendered by forked workers: the same files as one process renders, a
module a worker cannot render rendered by the generator instead, workers reaped."""

from __future__ import annotations

import os

import pytest
from generated_apps import EXAMPLES
from specloom.codegen import workers
from specloom.codegen.generator import Generator
from specloom.codegen.testgen import render_test_module
from specloom.ir.application import ApplicationIR
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked")


def rendered(spec: str, count: int) -> tuple[dict[str, str], Generator]:
    """Every task performed level by level (unformatted: what the workers change)."""
    compiled = compile_spec((EXAMPLES / spec).read_text())
    plan, _ = make_plan(compiled.ir, "test")
    generator = Generator(compiled.ir, plan, spec_name=spec, workers=count)
    by_id = {task.id: task for task in plan.tasks}
    for level in plan.levels:
        for task_id in level:
            generator.perform(by_id[task_id])
    return dict(generator.files), generator


def test_workers_render_the_same_files_as_one_process_and_are_reaped() -> None:
    alone, _ = rendered("shop.spec.md", 1)
    shared, generator = rendered("shop.spec.md", 2)
    assert shared == alone
    assert generator.test_modules.workers is None  # every module taken: workers stopped


def test_a_module_a_worker_cannot_render_is_rendered_by_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent = os.getpid()

    def failing_in_workers(ir: ApplicationIR, subject: str, requirement_ids: list[str]) -> str:
        if os.getpid() != parent and subject == "Product":
            raise RuntimeError("a worker fails")
        return render_test_module(ir, subject, requirement_ids)

    monkeypatch.setattr(workers, "render_test_module", failing_in_workers)
    alone, _ = rendered("shop.spec.md", 1)
    shared, _ = rendered("shop.spec.md", 2)
    assert shared == alone


def test_an_error_of_a_module_is_raised_by_its_task_as_without_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def broken(ir: ApplicationIR, subject: str, requirement_ids: list[str]) -> str:
        if subject == "Product":
            raise RuntimeError("Product's tests cannot be rendered")
        return render_test_module(ir, subject, requirement_ids)

    monkeypatch.setattr(workers, "render_test_module", broken)
    with pytest.raises(RuntimeError, match="Product's tests"):
        rendered("shop.spec.md", 2)
