"""The heading structure of a spec's text: its title, `##` sections and `###` blocks.

Read from the text itself (not the compiled model), so it holds while the spec is
broken mid-edit. Fenced code is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def section_kind(title: str) -> str | None:
    """`entities`, `endpoints`, `flows`, `rules`, `errors`, `prose`, or None."""
    from specloom.spec.parser import SECTIONS  # the engine: imported on first use

    kind: str | None = SECTIONS.get(re.sub(r"[^a-z ]", "", title.lower()).strip())
    return kind


@dataclass(slots=True)
class Block:
    """A `###` heading and the lines under it, up to the next heading of its level or above."""

    title: str
    line: int
    end: int  # the last line with text


@dataclass(slots=True)
class Section:
    title: str
    kind: str | None
    line: int
    end: int
    blocks: list[Block] = field(default_factory=list)


@dataclass(slots=True)
class Outline:
    title_line: int | None
    sections: list[Section]

    def section_at(self, line: int) -> Section | None:
        for section in self.sections:
            if section.line <= line <= max(section.end, section.line):
                return section
            if section.line > line:
                break
        # a line after a section's last text (blank lines) still belongs to it
        before = [s for s in self.sections if s.line <= line]
        return before[-1] if before else None

    def block_at(self, line: int) -> Block | None:
        section = self.section_at(line)
        if section is None:
            return None
        before = [b for b in section.blocks if b.line <= line]
        return before[-1] if before else None


def outline(lines: list[str]) -> Outline:
    title_line: int | None = None
    sections: list[Section] = []
    last_text = -1
    fence: str | None = None
    section: Section | None = None
    block: Block | None = None

    def close_block() -> None:
        nonlocal block
        if block is not None:
            block.end = max(block.line, last_text)
            block = None

    def close_section() -> None:
        nonlocal section
        close_block()
        if section is not None:
            section.end = max(section.line, last_text)
            section = None

    for number, line in enumerate(lines):
        if fence is not None:
            if line.lstrip().startswith(fence):
                fence = None
            last_text = number
            continue
        if match := _FENCE.match(line):
            fence = match.group(1)[:3]
            last_text = number
            continue
        heading = _HEADING.match(line) if line.lstrip().startswith("#") else None
        if heading:
            level = len(heading.group(1))
            text = (heading.group(2) or "").strip()
            if level == 1:
                close_section()
                if title_line is None:
                    title_line = number
            elif level == 2:
                close_section()
                section = Section(text, section_kind(text), number, number)
                sections.append(section)
            elif level == 3:
                close_block()
                if section is not None:
                    block = Block(text, number, number)
                    section.blocks.append(block)
        if line.strip():
            last_text = number
    close_section()
    return Outline(title_line, sections)
