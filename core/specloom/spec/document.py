"""The block structure of a spec: headings, paragraphs and (nested) list items.

markdown-it-pyrs (markdown-it in Rust, by the author of markdown-it-py) finds the
blocks and the source offsets of each; this module turns its tree into a small
tree of blocks whose text spans know the line and column of every character. The
Rust parser reads a 2,000-line spec in about 3 ms, where the pure-Python one took
about 20 ms of the compiler's budget. A spec made only of plain lines (`#` headings,
`- ` items indented two spaces a level, paragraphs: the usual spec) is read line by
line instead, into the same blocks, without the parser or a walk of its tree.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, count
from operator import add

from markdown_it_pyrs import MarkdownIt, Node
from specloom.ir.common import Position, SourceRange
from specloom.spec.source import Segment, Span


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
    """A block the spec language gives no meaning to (fenced code)."""

    kind: str
    range: SourceRange


Block = Heading | Paragraph | Item | Opaque

_LISTS = frozenset({"bullet_list", "ordered_list"})


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Headings, lists, paragraphs and fenced code are the whole spec language. Other
    # blocks (quotes, `---` rules, indented code) are read as paragraphs, which the
    # section parsers report; inline markup is not parsed: spans are raw source.
    return MarkdownIt("zero").enable_many(["heading", "list", "paragraph", "fence"])


class _Source:
    """Offsets in the source: bytes (as the parser gives them) to characters, and
    characters to lines and columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        # where each line starts: the lengths before it, plus a newline each
        self.line_starts = [0, *map(add, accumulate(map(len, self.lines)), count(1))]
        self._last_line = len(self.lines) - 1
        self._chars: list[int] | None = None
        if not text.isascii():
            chars: list[int] = []
            for index, char in enumerate(text):
                chars.extend([index] * len(char.encode("utf-8")))
            chars.append(len(text))
            self._chars = chars

    def char(self, byte_offset: int) -> int:
        if self._chars is None:
            return min(byte_offset, len(self.text))
        return self._chars[min(byte_offset, len(self._chars) - 1)]

    def line_column(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.line_starts, offset) - 1
        if line < 0:
            line = 0
        elif line > self._last_line:
            line = self._last_line
        return line, offset - self.line_starts[line]

    def position(self, offset: int) -> Position:
        return Position(*self.line_column(offset))

    def span(self, start: int, end: int) -> Span:
        """The text from `start` to `end` (characters) as one span; continuation lines
        lose their indentation, as a reader sees them, and keep their columns."""
        raw = self.text[start:end]
        line, column = self.line_column(start)
        if "\n" not in raw:
            stripped = raw.rstrip(" \t")
            return Span(stripped, (Segment(0, line, column, len(stripped)),))
        pieces: list[str] = []
        segments: list[Segment] = []
        offset = 0
        for index, piece in enumerate(raw.split("\n")):
            stripped = piece.lstrip(" \t") if index else piece
            indent = len(piece) - len(stripped)
            stripped = stripped.rstrip(" \t")
            segments.append(Segment(offset, line, column + indent, len(stripped)))
            pieces.append(stripped)
            offset += len(stripped) + 1
            line, column = line + 1, 0
        return Span("\n".join(pieces), tuple(segments))

    def paragraph_span(self, first: int, last: int) -> Span:
        """The span of a paragraph on lines `first` to `last`, whole."""
        return self.span(self.line_starts[first], self.line_starts[last] + len(self.lines[last]))

    def node_span(self, node: Node) -> Span:
        """`span(*offsets(node))`: the text of a node, most often one line of a list
        item, read with the calls of `offsets`, `line_column` and `span` inlined."""
        srcmap = node.srcmap
        if srcmap is None or self._chars is not None:
            return self.span(*self.offsets(node))
        start, end = srcmap
        size = len(self.text)
        if start > size:
            start = size
        if end > size:
            end = size
        raw = self.text[start:end]
        if "\n" in raw:
            return self.span(start, end)
        line = bisect_right(self.line_starts, start) - 1
        if line < 0:
            line = 0
        elif line > self._last_line:
            line = self._last_line
        stripped = raw.rstrip(" \t")
        column = start - self.line_starts[line]
        return Span(stripped, (Segment(0, line, column, len(stripped)),))

    def node_range(self, node: Node) -> SourceRange:
        start, end = self.offsets(node)
        return SourceRange(self.position(start), self.position(max(start, end)))

    def offsets(self, node: Node) -> tuple[int, int]:
        srcmap = node.srcmap
        if srcmap is None:
            return 0, 0
        start, end = srcmap
        if self._chars is None:  # ASCII: a byte is a character (`char`, inlined)
            size = len(self.text)
            return (start if start < size else size), (end if end < size else size)
        return self.char(start), self.char(end)


MAX_LIST_DEPTH = 20


class _Reader:
    def __init__(self, source: _Source) -> None:
        self.source = source
        self.depth = 0

    def inline_span(self, node: Node) -> Span:
        """The raw text of a heading's or paragraph's inline content."""
        children = node.children
        if children:
            start, _ = self.source.offsets(children[0])
            _, end = self.source.offsets(children[-1])
        else:
            start, end = self.source.offsets(node)
            end = start
        return self.source.span(start, end)

    def blocks(self, nodes: Sequence[Node]) -> list[Block]:
        blocks: list[Block] = []
        for node in nodes:
            name = node.name
            if name == "text":  # the content of a list item: the most frequent node
                blocks.append(Paragraph(self.source.node_span(node)))
            elif name == "heading":
                level = node.meta.get("level", 1)
                blocks.append(Heading(level if isinstance(level, int) else 1, self.heading(node)))
            elif name == "paragraph":
                blocks.append(Paragraph(self.inline_span(node)))
            elif name in _LISTS and self.depth >= MAX_LIST_DEPTH:
                # deeper than any spec needs: kept whole, and reported, not walked
                blocks.append(Opaque("deeply nested list", self.source.node_range(node)))
            elif name in _LISTS:
                self.depth += 1
                blocks.extend([self.item(child) for child in node.children])
                self.depth -= 1
            else:
                blocks.append(Opaque(name, self.source.node_range(node)))
        return blocks

    def heading(self, node: Node) -> Span:
        if node.children:
            return self.inline_span(node)
        # an empty heading: an empty span at the end of its marker
        _, end = self.source.offsets(node)
        return self.source.span(end, end)

    def item(self, node: Node) -> Item:
        nodes = node.children
        if len(nodes) == 1 and nodes[0].name == "text":
            # the usual item, one line of text: what the loop below makes of it
            return Item(self.source.node_span(nodes[0]), [], [])
        head: Span | None = None
        children: list[Item] = []
        extra: list[Block] = []
        for block in self.blocks(nodes):
            if head is None and isinstance(block, Paragraph):
                head = block.span
            elif isinstance(block, Item):
                children.append(block)
            else:
                extra.append(block)
        if head is None:
            start, _ = self.source.offsets(node)
            head = self.source.span(start, start)
        return Item(head, children, extra)


# The lines of a plain spec, where Markdown can only mean one thing: an ATX heading
# (group 1: its marks) whose text neither starts nor ends with a mark, a `- ` list item
# (group 2: its indent and marker) or a paragraph line, each starting with a letter and
# ending without a space, or a blank line. One match per line, for every line that is one.
_PLAIN_LINES = re.compile(
    r"^(?:(#{1,6}) (?![\s#])|( *- )(?=[A-Za-z_])|(?=[A-Za-z_]))(?:.*\S)?$|^ *$", re.MULTILINE
)
_PLAIN_DEPTH = 8  # deeper lists are left to markdown-it


def _plain_blocks(source: _Source) -> list[Block] | None:
    """The blocks of a spec made only of plain lines (see `_PLAIN_LINES`), with each list
    item indented two spaces under its parent and no paragraph line right after an item
    (a lazy continuation): what markdown-it makes of it, read line by line without it,
    in a fraction of the time. None for any other spec, which markdown-it reads."""
    blocks: list[Block] = []
    items: list[Item] = []  # the open list items, one per depth
    paragraph = -1  # the first line of the open paragraph
    after_item = False  # was the line before a list item?
    lines = source.lines
    shapes = _PLAIN_LINES.findall(source.text)
    if len(shapes) != len(lines):
        return None  # a line of another kind
    for number, (line, (marks, marker)) in enumerate(zip(lines, shapes, strict=True)):
        if not marks and not marker and (not line or line[0] == " "):  # blank
            if paragraph >= 0:
                blocks.append(Paragraph(source.paragraph_span(paragraph, number - 1)))
                paragraph = -1
            after_item = False
            continue
        if marker:
            column = len(marker)
            depth = (column - 2) // 2
            if column % 2 or depth > len(items) or depth >= _PLAIN_DEPTH:
                return None
            if paragraph >= 0:  # a list interrupts a paragraph
                blocks.append(Paragraph(source.paragraph_span(paragraph, number - 1)))
                paragraph = -1
            text = line[column:]
            item = Item(Span(text, (Segment(0, number, column, len(text)),)), [], [])
            del items[depth:]
            if depth:
                items[-1].children.append(item)
            else:
                blocks.append(item)
            items.append(item)
            after_item = True
            continue
        if marks:
            if line[-1] == "#":  # a closing sequence, or text that ends with a mark
                return None
            if paragraph >= 0:
                blocks.append(Paragraph(source.paragraph_span(paragraph, number - 1)))
                paragraph = -1
            column = len(marks) + 1
            text = line[column:]
            blocks.append(Heading(len(marks), Span(text, (Segment(0, number, column, len(text)),))))
        elif paragraph < 0:
            if after_item:
                return None  # a lazy continuation of the item's text
            paragraph = number
        items.clear()
        after_item = False
    if paragraph >= 0:
        blocks.append(Paragraph(source.paragraph_span(paragraph, len(lines) - 1)))
    return blocks


def read_blocks(text: str) -> tuple[list[Block], list[str]]:
    """Parse Markdown into top-level blocks; also returns the source lines."""
    source = _Source(text)
    blocks = _plain_blocks(source)
    if blocks is None:
        tree = _markdown().tree(text)
        blocks = _Reader(source).blocks(tree.children)
    return blocks, source.lines
