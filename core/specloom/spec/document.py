"""The block structure of a spec: headings, paragraphs and (nested) list items.

markdown-it-py finds the blocks and their line maps; this module turns its token
stream into a small tree whose text spans know their source positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from specloom.ir.common import SourceRange
from specloom.spec.source import Span


@dataclass(slots=True)
class Heading:
    level: int
    span: Span


@dataclass(slots=True)
class Paragraph:
    span: Span


@dataclass(slots=True)
class Item:
    """A list item: its first paragraph, nested items, and any further blocks."""

    span: Span
    children: list[Item] = field(default_factory=list)
    extra: list[Block] = field(default_factory=list)


@dataclass(slots=True)
class Opaque:
    """A block the spec language gives no meaning to (code, quote, rule, HTML)."""

    kind: str
    range: SourceRange


Block = Heading | Paragraph | Item | Opaque


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Headings, lists, paragraphs and fenced code are the whole spec language; the
    # other block rules (quotes, setext headings, rules, indented code) are left out
    # because each costs a check on every line: a quote or a `---` line is then read
    # as a paragraph, which the section parsers report or skip.
    parser = MarkdownIt("zero").enable(["heading", "list", "paragraph", "fence"])
    # Only the block structure is needed: spans are read from the raw source.
    parser.disable(["inline", "text_join"])
    return parser


def _line_range(lines: list[str], token: Token) -> SourceRange:
    start, end = token.map if token.map else (0, 1)
    last = max(start, end - 1)
    width = len(lines[last]) if last < len(lines) else 0
    return SourceRange.of(start, 0, last, width)


class _Walker:
    def __init__(self, tokens: list[Token], lines: list[str]) -> None:
        self.tokens = tokens
        self.lines = lines
        self.index = 0

    def span(self, inline: Token, first_line: int) -> Span:
        return Span.from_lines(self.lines, first_line, inline.content)

    def blocks_until(self, closing: str | None) -> list[Block]:
        blocks: list[Block] = []
        while self.index < len(self.tokens):
            token = self.tokens[self.index]
            if closing is not None and token.type == closing:
                self.index += 1
                return blocks
            blocks.extend(self.block())
        return blocks

    def block(self) -> list[Block]:
        token = self.tokens[self.index]
        kind = token.type
        if kind == "heading_open":
            inline = self.tokens[self.index + 1]
            self.index += 3
            first = token.map[0] if token.map else 0
            return [Heading(int(token.tag[1]), self.span(inline, first))]
        if kind == "paragraph_open":
            inline = self.tokens[self.index + 1]
            self.index += 3
            first = token.map[0] if token.map else 0
            return [Paragraph(self.span(inline, first))]
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.index += 1
            return list(self.items(kind.replace("_open", "_close")))
        if kind == "blockquote_open":
            depth = 0
            start = self.index
            while self.index < len(self.tokens):
                depth += self.tokens[self.index].nesting
                self.index += 1
                if depth == 0:
                    break
            return [Opaque("quote", _line_range(self.lines, self.tokens[start]))]
        self.index += 1
        if token.nesting == 0 and token.map:
            return [Opaque(kind, _line_range(self.lines, token))]
        return []

    def items(self, closing: str) -> list[Item]:
        items: list[Item] = []
        while self.index < len(self.tokens):
            token = self.tokens[self.index]
            if token.type == closing:
                self.index += 1
                break
            if token.type != "list_item_open":
                self.index += 1
                continue
            self.index += 1
            first_line = token.map[0] if token.map else 0
            inner = self.blocks_until("list_item_close")
            items.append(self.make_item(inner, first_line))
        return items

    def make_item(self, inner: list[Block], first_line: int) -> Item:
        head: Span | None = None
        children: list[Item] = []
        extra: list[Block] = []
        for block in inner:
            if head is None and isinstance(block, Paragraph):
                head = block.span
            elif isinstance(block, Item):
                children.append(block)
            else:
                extra.append(block)
        if head is None:
            head = Span.from_lines(self.lines, first_line, "")
        return Item(head, children, extra)


def read_blocks(text: str) -> tuple[list[Block], list[str]]:
    """Parse Markdown into top-level blocks; also returns the source lines."""
    lines = text.split("\n")
    tokens = _markdown().parse(text)
    walker = _Walker(tokens, lines)
    return walker.blocks_until(None), lines
