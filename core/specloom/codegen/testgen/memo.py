"""Facts of an application computed once per IR while its tests are generated (the
emitters ask for them test after test)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from specloom.ir.application import ApplicationIR

T = TypeVar("T")
KEPT = 4  # applications remembered at once (a run generates one; tests switch between a few)


def per_ir(compute: Callable[[ApplicationIR], T]) -> Callable[[ApplicationIR], T]:
    """`compute(ir)`, remembered for the last few IRs (by identity: IRs are not mutated
    while tests are generated)."""
    remembered: list[tuple[ApplicationIR, T]] = []

    @wraps(compute)
    def cached(ir: ApplicationIR) -> T:
        for known, value in remembered:
            if known is ir:
                return value
        value = compute(ir)
        remembered.append((ir, value))
        del remembered[:-KEPT]
        return value

    return cached
