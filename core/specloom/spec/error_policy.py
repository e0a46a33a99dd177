"""The Errors section: which status each kind of failure answers.

- An unknown id in the path or in a reference answers 404.
- A field that breaks its constraints answers 422.
- A duplicate value of a unique field answers 409.
- A broken rule answers 422.
- A conflict answers 409.
"""

from __future__ import annotations

import re

from specloom.ir.validation import ErrorKind, ErrorMapping
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.source import Span

_KINDS: tuple[tuple[ErrorKind, re.Pattern[str]], ...] = (
    ("not_found", re.compile(r"unknown id|not found|does not exist|no such|missing record", re.I)),
    ("duplicate", re.compile(r"duplicate|already (?:exists|taken|used)|unique", re.I)),
    ("validation", re.compile(r"constraint|invalid|validation|malformed", re.I)),
    ("rule", re.compile(r"\brules?\b|invariant", re.I)),
    ("conflict", re.compile(r"conflict|overlap", re.I)),
)
_STATUS = re.compile(
    r"(?:\b(?:answers?|returns?|responds?(?: with)?|gives?|is|means)|->|=>|\u2192)\s*"
    r"(?:with\s+)?(\d{3})\b",
    re.I,
)


def parse_error_line(span: Span, sink: DiagnosticSink) -> ErrorMapping | None:
    text = span.text
    status = _STATUS.search(text)
    kind = next((kind for kind, pattern in _KINDS if pattern.search(text)), None)
    if status is None or kind is None:
        sink.add(
            "SL601",
            "an error policy line names a kind of failure and its status, as in "
            "'A duplicate value of a unique field answers 409'; the kinds are: unknown id, "
            "broken constraints, duplicate value, broken rule, conflict",
            span.range(),
        )
        return None
    code = int(status.group(1))
    if not 400 <= code <= 599:
        sink.add(
            "SL408",
            f"{code} is not an error status: use a 4xx or 5xx code",
            span.range(status.start(1), status.end(1)),
        )
        return None
    return ErrorMapping(kind=kind, status=code, text=text.strip(), range=span.range())
