"""Deterministic example strings for a regular expression, and strings it refuses.

`example(pattern, k)` walks the parse tree of Python's own regex parser and makes
one choice at every class, alternation and optional repeat. The k-th example
spells k in mixed radix over those choices, from the last choice backwards, so
consecutive examples differ near their end (`9780000000000`, `9780000000001`).
Every example is checked with `re.fullmatch` before it is returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, ClassVar

# Characters tried first, in order: digits, capitals, small letters, then the rest.
PREFERRED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PRINTABLE = PREFERRED + " _-.@:/!#$%&*+=?^~,;'\"()[]{}<>|\\`"
_MAX_EXTRA = 64

_CATEGORY_CHARS: dict[Any, str] = {
    sre_constants.CATEGORY_DIGIT: "0123456789",
    sre_constants.CATEGORY_NOT_DIGIT: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.",
    sre_constants.CATEGORY_WORD: PREFERRED + "_",
    sre_constants.CATEGORY_NOT_WORD: " -.@:/!#$%&*+=?",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: PREFERRED + "_-.",
}


class _Chooser:
    """Hands out choices: first pass records the radix of every choice point, later
    passes read the digits of k assigned from the last point backwards."""

    def __init__(self, digits: list[int] | None) -> None:
        self.digits = digits
        self.radices: list[int] = []

    def choose(self, options: int) -> int:
        position = len(self.radices)
        self.radices.append(options)
        if self.digits is None or position >= len(self.digits) or options <= 1:
            return 0
        return self.digits[position] % options


def _class_chars(items: list[tuple[Any, Any]]) -> str:
    key = tuple((op, tuple(arg) if isinstance(arg, (list, tuple)) else arg) for op, arg in items)
    return _class_chars_of(key)


@lru_cache(maxsize=1024)
def _class_chars_of(items: tuple[tuple[Any, Any], ...]) -> str:
    negate = bool(items) and items[0][0] == sre_constants.NEGATE
    allowed: set[str] = set()
    for op, arg in items:
        if op == sre_constants.LITERAL:
            allowed.add(chr(arg))
        elif op == sre_constants.RANGE:
            low, high = arg
            allowed.update(chr(code) for code in range(low, min(high, low + 400) + 1))
        elif op == sre_constants.CATEGORY:
            allowed.update(_CATEGORY_CHARS.get(arg, ""))
    if negate:
        return "".join(char for char in PRINTABLE if char not in allowed)
    ordered = [char for char in PRINTABLE if char in allowed]
    ordered += sorted(char for char in allowed if char not in PRINTABLE)
    return "".join(ordered)


class _Generator:
    def __init__(self, chooser: _Chooser, extra: int) -> None:
        self.chooser = chooser
        self.extra = extra
        self.groups: dict[int, str] = {}

    def pick(self, chars: str) -> str:
        if not chars:
            raise ValueError("empty character class")
        return chars[self.chooser.choose(len(chars))]

    def walk(self, items: Any) -> str:
        return "".join(self.node(op, arg) for op, arg in items)

    def node(self, op: Any, arg: Any) -> str:
        handler = self.HANDLERS.get(op)
        if handler is None:
            return ""  # anchors, lookarounds and flags add no characters
        return handler(self, arg)

    def literal(self, arg: int) -> str:
        return chr(arg)

    def not_literal(self, arg: int) -> str:
        return self.pick("".join(char for char in PRINTABLE if ord(char) != arg))

    def any_char(self, _arg: Any) -> str:
        return self.pick(PREFERRED)

    def in_(self, arg: list[tuple[Any, Any]]) -> str:
        return self.pick(_class_chars(arg))

    def repeat(self, arg: tuple[int, Any, Any]) -> str:
        low, high, items = arg
        top = low + self.extra if high == sre_constants.MAXREPEAT else min(high, low + self.extra)
        count = top if self.extra else low
        if low == 0 and not self.extra and high != 0:
            count = self.chooser.choose(2)  # an optional part: absent first, then present
        return "".join(self.walk(items) for _ in range(count))

    def subpattern(self, arg: tuple[Any, Any, Any, Any]) -> str:
        group, _add, _delete, items = arg
        text = self.walk(items)
        if group is not None:
            self.groups[group] = text
        return text

    def branch(self, arg: tuple[Any, list[Any]]) -> str:
        _, alternatives = arg
        return self.walk(alternatives[self.chooser.choose(len(alternatives))])

    def groupref(self, arg: int) -> str:
        return self.groups.get(arg, "")

    HANDLERS: ClassVar[dict[Any, Callable[[_Generator, Any], str]]] = {
        sre_constants.LITERAL: literal,
        sre_constants.NOT_LITERAL: not_literal,
        sre_constants.ANY: any_char,
        sre_constants.IN: in_,
        sre_constants.MAX_REPEAT: repeat,
        sre_constants.MIN_REPEAT: repeat,
        sre_constants.SUBPATTERN: subpattern,
        sre_constants.BRANCH: branch,
        sre_constants.GROUPREF: groupref,
    }


def _digits(k: int, radices: list[int]) -> list[int]:
    """k in mixed radix, least significant digit on the last choice point."""
    digits = [0] * len(radices)
    for position in range(len(radices) - 1, -1, -1):
        radix = radices[position]
        if radix > 1:
            digits[position] = k % radix
            k //= radix
    return digits


def _generate(parsed: Any, k: int, extra: int) -> str:
    probe = _Chooser(None)
    _Generator(probe, extra).walk(parsed)
    chooser = _Chooser(_digits(k, probe.radices))
    return _Generator(chooser, extra).walk(parsed)


@lru_cache(maxsize=256)
def _parsed(pattern: str) -> Any:
    return sre_parse.parse(pattern)


def candidates(pattern: str, k: int = 0) -> Iterator[str]:
    """Strings the pattern matches in full: the k-th example, then longer variants."""
    parsed = _parsed(pattern)
    extra = 0
    while extra <= _MAX_EXTRA:
        try:
            text = _generate(parsed, k, extra)
        except (ValueError, RecursionError):
            text = None
        if text is not None and re.fullmatch(pattern, text):
            yield text
        extra = extra + 1 if extra < 16 else extra * 2  # every length up to 16 more, then faster


@lru_cache(maxsize=4096)
def example(
    pattern: str, k: int = 0, min_length: int | None = None, max_length: int | None = None
) -> str | None:
    """The k-th example of `pattern` within the length limits, or None."""
    for text in candidates(pattern, k):
        if min_length is not None and len(text) < min_length:
            continue
        if max_length is not None and len(text) > max_length:
            return None
        return text
    return None


def distinct_examples(
    pattern: str, count: int, min_length: int | None = None, max_length: int | None = None
) -> list[str]:
    """`count` different examples (fewer when the pattern has fewer)."""
    found: list[str] = []
    k = 0
    while len(found) < count and k < count * 8 + 16:
        text = example(pattern, k, min_length, max_length)
        if text is not None and text not in found:
            found.append(text)
        k += 1
    return found


def refused(
    pattern: str, min_length: int | None = None, max_length: int | None = None
) -> str | None:
    """A string of fitting length that `pattern` does not match anywhere, or None."""
    base = example(pattern, 0, min_length, max_length) or "a"
    low = min_length or 0
    tries = ["!" * max(low, 1), "#" + base[1:], base[:-1] + "#", base + "!", "!" + base, ""]
    tries += ["a" * max(low, 1), "0" * max(low, 1), " " * max(low, 1)]
    for text in tries:
        if len(text) < low or (max_length is not None and len(text) > max_length):
            continue
        if re.search(pattern, text) is None:
            return text
    return None
