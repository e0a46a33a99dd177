"""What quick fixes are made of: edits of a spec's lines (positions in code points, as
the engine counts them), the problem one diagnostic poses, and the small text helpers
the fixes share (field-line parts, words in a range, nearest names)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from specloom.spec.entities import split_top_level

from specloom_lsp.outline import Outline, outline

if TYPE_CHECKING:
    from specloom.ir.application import ApplicationIR
    from specloom.ir.domain import Entity, Field
    from specloom.spec.diagnostics import Diagnostic

_LIST_ITEM = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)")
_QUOTED = re.compile(r"'([^']+)'")


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text from `start` to `end` ((line, column) in code points)."""

    start: tuple[int, int]
    end: tuple[int, int]
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """One quick fix: a title for the menu, its edits, and whether it is the one
    obvious fix (an editor may apply a preferred fix on its own)."""

    title: str
    edits: tuple[Edit, ...]
    preferred: bool = False


Fixer = Callable[["Problem"], list[Fix]]


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a line: its columns and text."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class Problem:
    """One diagnostic of a compiled spec, with what the fixes read: the lines, the
    compiled model and the heading outline."""

    diagnostic: Diagnostic
    lines: list[str]
    ir: ApplicationIR
    newline: str = "\n"
    _outline: Outline | None = field(default=None, repr=False)

    @property
    def line(self) -> int:
        return self.diagnostic.range.start.line

    @property
    def line_text(self) -> str:
        return self.lines[self.line] if self.line < len(self.lines) else ""

    @property
    def span(self) -> Part:
        """The diagnostic's range on its first line."""
        start = self.diagnostic.range.start
        end = self.diagnostic.range.end
        stop = end.column if end.line == start.line else len(self.line_text)
        return Part(start.column, stop, self.line_text[start.column : stop])

    @property
    def outline(self) -> Outline:
        if self._outline is None:
            self._outline = outline(self.lines)
        return self._outline

    def quoted(self) -> list[str]:
        """The names the message quotes ('x'), in order."""
        return _QUOTED.findall(self.diagnostic.message)

    def entity(self, name: str | None) -> Entity | None:
        return self.ir.domain.entity(name) if name else None

    def entity_at(self) -> Entity | None:
        """The entity whose block holds the diagnostic."""
        line = self.line
        found = None
        for entity in self.ir.domain.entities:
            if entity.range.start.line <= line:
                found = entity
        return found

    def field_at(self) -> tuple[Entity, Field] | None:
        """The field whose line holds the diagnostic."""
        for entity in self.ir.domain.entities:
            for item in entity.fields:
                if item.range.start.line == self.line:
                    return entity, item
        return None

    def replace(self, start: int, end: int, text: str, line: int | None = None) -> Edit:
        at = self.line if line is None else line
        return Edit((at, start), (at, end), text)

    def insert_after(self, line: int, new_lines: Iterable[str]) -> Edit:
        """New lines after line `line` (at the end of the text when it is the last)."""
        items = list(new_lines)
        if line + 1 < len(self.lines):
            return Edit((line + 1, 0), (line + 1, 0), "".join(t + self.newline for t in items))
        end = len(self.lines[line]) if line < len(self.lines) else 0
        return Edit((line, end), (line, end), "".join(self.newline + t for t in items))

    def delete_line(self, line: int) -> Edit:
        if line + 1 < len(self.lines):
            return Edit((line, 0), (line + 1, 0), "")
        if line == 0:
            return Edit((0, 0), (0, len(self.lines[0])), "")
        return Edit((line - 1, len(self.lines[line - 1])), (line, len(self.lines[line])), "")


def list_item_start(text: str) -> int | None:
    """The column where a list line's content starts (after `- `), or None."""
    match = _LIST_ITEM.match(text)
    return match.end() if match else None


def field_parts(text: str) -> list[Part]:
    """The comma-separated parts after the colon of a field line (`- name: type, c, c`):
    the type first, then each constraint, trimmed."""
    colon = text.find(":")
    if colon < 0:
        return []
    body = text[colon + 1 :]
    parts: list[Part] = []
    for start, end in split_top_level(body):
        piece = body[start:end]
        stripped = piece.strip().rstrip(".").rstrip()
        if not stripped:
            continue
        first = start + len(piece) - len(piece.lstrip())
        parts.append(
            Part(colon + 1 + first, colon + 1 + first + len(stripped), stripped),
        )
    return parts


def remove_part(problem: Problem, line: int, part: Part, parts: list[Part]) -> Edit:
    """Remove one constraint of a field line with the comma before it."""
    index = parts.index(part)
    if index > 0:
        return problem.replace(parts[index - 1].end, part.end, "", line)
    following = parts[index + 1] if index + 1 < len(parts) else None
    return problem.replace(part.start, following.start if following else part.end, "", line)


def find_word(text: str, word: str, start: int = 0, end: int | None = None) -> int | None:
    """The column of the last whole-word occurrence of `word` in `text[start:end]`."""
    stop = len(text) if end is None else end
    found = None
    for match in re.finditer(rf"(?<![\w]){re.escape(word)}(?![\w])", text[start:stop]):
        found = start + match.start()
    return found


def nearest(word: str, options: Iterable[str], n: int = 3, cutoff: float = 0.7) -> list[str]:
    """The options closest to `word`, best first (compared without case)."""
    if n <= 0:
        return []
    by_key: dict[str, str] = {}
    for option in options:
        by_key.setdefault(option.lower(), option)
    keys = difflib.get_close_matches(word.lower(), list(by_key), n=n, cutoff=cutoff)
    return [by_key[key] for key in keys if by_key[key] != word]


def change_word(
    problem: Problem, word: str, options: Iterable[str], *, at: int | None = None
) -> list[Fix]:
    """ "Change to 'x'" for the options nearest to `word`, which is in the diagnostic's
    range (its last occurrence, unless `at` gives its column); the best is preferred."""
    span = problem.span
    column = at if at is not None else find_word(problem.line_text, word, span.start, span.end)
    if column is None:
        return []
    return [
        Fix(
            f"Change to '{option}'",
            (problem.replace(column, column + len(word), option),),
            preferred=index == 0,
        )
        for index, option in enumerate(nearest(word, options))
    ]


def block_end(problem: Problem, line: int) -> int:
    """The last line with text of the `###` block (or section) holding `line`."""
    block = problem.outline.block_at(line)
    if block is not None:
        return block.end
    section = problem.outline.section_at(line)
    return section.end if section is not None else line
