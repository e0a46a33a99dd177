"""A test the generator cannot build becomes a comment saying why, never a crash: the
generated suite is written for every spec the language accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from specloom.codegen.testgen.evaluate import Undefined

T = TypeVar("T")
EXPECTED = (ValueError, KeyError, IndexError, LookupError, Undefined, RecursionError)


def attempt(notes: list[str], what: str, make: Callable[[], T]) -> T | None:
    """`make()`, or None with a note when no scenario could be built for `what`."""
    try:
        return make()
    except EXPECTED as error:
        reason = str(error).strip("'\"") or type(error).__name__
        notes.append(f"{what}: the generator could not build this test ({reason}).")
        return None
