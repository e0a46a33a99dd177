"""Spec source: decoding any bytes, and text spans that know where they came from.

A `Span` is a piece of spec text (a heading, a list item, a paragraph) with the
source position of every character, so a parser working on the joined text can
report a range anywhere inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from specloom.ir.common import Position, SourceRange

_new = object.__new__


@dataclass(frozen=True, slots=True)
class DecodedSource:
    """The text of a spec, and what went wrong while decoding it."""

    text: str
    problems: tuple[str, ...] = ()


def decode_spec(data: bytes | str) -> DecodedSource:
    """Decode spec bytes as UTF-8 (with or without BOM); never raises.

    Invalid sequences are replaced and reported; NUL bytes (binary content) are
    replaced by spaces so that positions stay where they were.
    """
    problems: list[str] = []
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            text = data.decode("utf-8", errors="replace")
            problems.append(
                f"the file is not valid UTF-8 (first bad byte at offset {error.start}); "
                "save it as UTF-8"
            )
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        problems.append("the file holds NUL bytes: it looks binary, not a Markdown spec")
        text = text.replace("\x00", " ")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return DecodedSource(text=text, problems=tuple(problems))


@dataclass(slots=True)
class Segment:
    """One line of a span: its offset in the span's text and where it starts in the source."""

    offset: int
    line: int
    column: int
    length: int


class Span:
    """Text taken from one or more source lines, with a position for every offset."""

    __slots__ = ("_whole", "segments", "text")

    def __init__(self, text: str, segments: tuple[Segment, ...]) -> None:
        self.text = text
        self.segments = segments
        self._whole: SourceRange | None = None  # range() of the whole text, once asked

    @classmethod
    def from_lines(cls, source_lines: list[str], first_line: int, content: str) -> Span:
        """Locate `content` (lines joined by newlines, each a suffix-trimmed piece of a
        source line) starting at `first_line`."""
        segments: list[Segment] = []
        offset = 0
        line = first_line
        last = len(source_lines) - 1
        for piece in content.split("\n"):
            column = 0
            if 0 <= line <= last and piece:
                found = source_lines[line].find(piece)
                if found < 0:
                    # The block's map may start on a line markdown-it took as part of
                    # it but left out of the content (one of only Unicode spaces).
                    for ahead in range(line + 1, min(line + 3, last + 1)):
                        found = source_lines[ahead].find(piece)
                        if found >= 0:
                            line = ahead
                            break
                # Not found as written (markdown-it turned a tab into spaces): keep the
                # piece inside its line, flush right, where its text ends.
                flush_right = max(0, len(source_lines[line]) - len(piece))
                column = found if found >= 0 else flush_right
            width = len(piece)
            if 0 <= line <= last:
                width = min(width, max(0, len(source_lines[line]) - column))
            segments.append(Segment(offset, line, column, width))
            offset += len(piece) + 1
            line += 1
        return cls(content, tuple(segments))

    def position(self, offset: int) -> Position:
        segments = self.segments
        segment = segments[0]
        if len(segments) > 1:
            for candidate in segments:
                if candidate.offset <= offset:
                    segment = candidate
                else:
                    break
        inside = offset - segment.offset
        if inside < 0:
            inside = 0
        elif inside > segment.length:
            inside = segment.length
        return Position(segment.line, segment.column + inside)

    def range(self, start: int = 0, end: int | None = None) -> SourceRange:
        if end is not None:
            return self.range_between(start, end)
        if start != 0:
            return self.range_between(start, len(self.text))
        # The whole span's range is asked for again and again (a field, its
        # requirements, the endpoints of a CRUD line): built once, shared, as ranges
        # are never changed.
        whole = self._whole
        if whole is None:
            whole = self._whole = self.range_between(0, len(self.text))
        return whole

    def range_between(self, start: int, stop: int) -> SourceRange:
        """The range from offset `start` to `stop`: `range` without its defaults."""
        if stop < start:
            stop = start
        segments = self.segments
        if len(segments) == 1:
            # one line, the usual case: no search
            segment = segments[0]
            length = segment.length
            first = 0 if start < 0 else length if start > length else start
            last = 0 if stop < 0 else length if stop > length else stop
            line, column = segment.line, segment.column
            # the three objects built as their classes would build them, without the
            # interpreter's slow path for calling a class: a third of the cost here
            begin = _new(Position)
            begin.line, begin.column = line, column + first
            finish = _new(Position)
            finish.line, finish.column = line, column + last
            whole = _new(SourceRange)
            whole.start, whole.end = begin, finish
            return whole
        return SourceRange(self.position(start), self.position(stop))

    def sub(self, start: int, end: int) -> Span:
        """The span of `text[start:end]`, keeping positions."""
        segments: list[Segment] = []
        for segment in self.segments:
            seg_end = segment.offset + segment.length
            lo, hi = max(start, segment.offset), min(end, seg_end)
            if lo > hi or (lo == hi and segments):
                continue
            segments.append(
                Segment(lo - start, segment.line, segment.column + lo - segment.offset, hi - lo)
            )
        if not segments:
            position = self.position(start)
            segments.append(Segment(0, position.line, position.column, 0))
        return Span(self.text[start:end], tuple(segments))

    def strip(self) -> Span:
        stripped = self.text.strip()
        if not stripped:
            return self.sub(0, 0)
        start = self.text.find(stripped)
        return self.sub(start, start + len(stripped))

    def __repr__(self) -> str:
        first = self.segments[0]
        return f"Span({self.text!r} @ {first.line}:{first.column})"
