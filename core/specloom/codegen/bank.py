"""The pattern bank, as code generation sees it: before rendering a task, phase 6 asks
the bank for a pattern of the same task (same kind, subject and semantic signature);
what it renders, it offers back.

This version keeps patterns in memory, for the life of the bank: a second generation
in the same process (the language server regenerating after an edit) reuses every
task whose signature did not change. Learning from verified runs, with vectors and a
graph, is phase 11's and fills the same interface.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

from specloom.codegen.pycode import Part
from specloom.plan.model import Task


@dataclass(frozen=True)
class Rendered:
    """What one task produced: whole files (path -> text) and, for a task that writes
    part of a shared module, that part."""

    files: tuple[tuple[str, str], ...] = ()
    part: Part | None = None


class PatternBank(Protocol):
    def recall(self, task: Task) -> Rendered | None:
        """A pattern for this task, or None."""

    def remember(self, task: Task, rendered: Rendered) -> None:
        """Offer what the task rendered."""


@dataclass
class MemoryPatternBank:
    """Patterns by (task kind, subject, signature hash), the least recently used dropped
    beyond `capacity`."""

    capacity: int = 20_000
    hits: int = 0
    misses: int = 0
    patterns: OrderedDict[tuple[str, str, str], Rendered] = field(default_factory=OrderedDict)

    @staticmethod
    def key(task: Task) -> tuple[str, str, str]:
        return (task.kind, task.subject, task.signature_hash)

    def has(self, task: Task) -> bool:
        """Whether `recall` would find the task (without counting a hit or a miss)."""
        return self.key(task) in self.patterns

    def recall(self, task: Task) -> Rendered | None:
        found = self.patterns.get(self.key(task))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self.patterns.move_to_end(self.key(task))
        return found

    def remember(self, task: Task, rendered: Rendered) -> None:
        self.patterns[self.key(task)] = rendered
        self.patterns.move_to_end(self.key(task))
        while len(self.patterns) > self.capacity:
            self.patterns.popitem(last=False)
