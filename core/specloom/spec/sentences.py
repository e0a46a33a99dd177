"""Tokens of one spec sentence and a cursor to parse them with positions.

A sentence is one list item, heading or line of text. Its tokens keep their
offsets into the sentence's `Span`, so every parse error and IR node can name
the exact columns it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import NamedTuple

from specloom.ir.common import SourceRange
from specloom.spec.source import Span

# One match per token, with the whitespace before it: `findall` then gives every
# token's text and offset in one call, without a match object per token. A word is
# one group (and its possessive another); any other token is one group, its kind told
# by `_kind_of`.
_TOKEN = re.compile(
    r"""
    (\s*)
    (?:
      ([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(['\u2019]s\b)?  # word, possessive
    | ( `[^`]*`                                                 # code
      | "[^"]*"|\u201c[^\u201d]*\u201d                          # string
      | \d+(?:\.\d+)?                                           # number
      | >=|<=|!=|==|[=><+\-*/|(),;:.]                           # op
      | \S                                                      # other
      )
    | \Z  # trailing whitespace, taken in one match rather than tried at each position
    )
    """,
    re.VERBOSE,
)
_OPERATORS = frozenset(
    (">=", "<=", "!=", "==", "=", ">", "<", "+", "-", "*", "/", "|", "(", ")", ",", ";", ":", ".")
)


def _kind_of(token: str) -> str:
    """The kind of a token that is not a word, from the alternative `_TOKEN` took."""
    if token in _OPERATORS:
        return "op"
    first = token[0]
    if len(token) > 1:  # an opening quote or backtick alone is an 'other'
        if first == "`":
            return "code"
        if first == '"' or first == "\u201c":
            return "string"
    return "number" if first.isdecimal() else "other"  # `\d` is a decimal digit


class Token(NamedTuple):
    """`kind` is one of word, number, string, code, op, other; `possessive` marks `book's`.

    A named tuple: a sentence makes one per word, and tuples are the cheapest to build.
    """

    kind: str
    text: str
    start: int
    end: int
    possessive: bool = False
    lower: str = ""

    @property
    def value(self) -> str:
        """The text inside quotes or backticks, the plain text otherwise."""
        if self.kind in ("string", "code"):
            return self.text[1:-1]
        return self.text


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    append = tokens.append
    new = tuple.__new__  # a Token without the Python-level NamedTuple constructor
    end = 0
    for space, word, possessive, other in _TOKEN.findall(text):
        start = end + len(space)
        if word:
            end = start + len(word)
            append(new(Token, ("word", word, start, end, possessive != "", word.lower())))
            if possessive:
                end += len(possessive)
        elif other:
            end = start + len(other)
            kind = "op" if other in _OPERATORS else _kind_of(other)  # most are operators
            append(new(Token, (kind, other, start, end, False, other)))
    return tokens


class ParseError(Exception):
    """A sentence does not fit the grammar; `start`/`end` are offsets in the sentence."""

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


@lru_cache(maxsize=256)
def _phrase_words(phrase: str) -> tuple[str, ...]:
    return tuple(phrase.split())


MAX_NESTING = 32
MAX_OPERATORS = 64


class Cursor:
    """A position in the tokens of one sentence."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self.tokens = tokenize(span.text)
        self.size = len(self.tokens)  # the tokens never change once read
        self.index = 0
        self.depth = 0
        self.operators = 0

    # --- limits ---------------------------------------------------------
    # A sentence is parsed recursively and its IR is a tree: bounding how deep it
    # nests and how many operators it chains keeps both far from Python's and
    # pydantic's recursion limits, whatever the input.

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise self.error(f"this nests more than {MAX_NESTING} deep: split it")
            yield
        finally:
            self.depth -= 1

    def count_operator(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise self.error(
                f"more than {MAX_OPERATORS} operators in one sentence: split the computation"
            )

    # --- looking --------------------------------------------------------
    # These run for every token of every sentence: each reads the token list
    # directly rather than through `peek`, saving a call per look.

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.index + ahead
        return self.tokens[index] if index < self.size else None

    def at_end(self) -> bool:
        """True at the end, or before a final full stop."""
        index = self.index
        if index >= self.size:
            return True
        return self.tokens[index].text == "." and index == self.size - 1

    def at_word(self, *words: str, ahead: int = 0) -> bool:
        index = self.index + ahead
        if index >= self.size:
            return False
        token = self.tokens[index]
        return token.kind == "word" and token.lower in words

    def at_words(self, phrase: str) -> bool:
        words = _phrase_words(phrase)
        index = self.index
        tokens = self.tokens
        if index + len(words) > self.size:
            return False
        for offset, word in enumerate(words):
            token = tokens[index + offset]
            if token.kind != "word" or token.lower != word:
                return False
        return True

    def at_kind(self, kind: str) -> bool:
        """Is the next token a `kind` (word, number, op...)?"""
        return self.index < self.size and self.tokens[self.index].kind == kind

    def at_op(self, *ops: str, ahead: int = 0) -> bool:
        index = self.index + ahead
        if index >= self.size:
            return False
        token = self.tokens[index]
        return token.kind == "op" and token.text in ops

    # --- taking ---------------------------------------------------------

    def next(self) -> Token:
        index = self.index
        if index >= self.size:
            raise self.error("the sentence ends too early")
        self.index = index + 1
        return self.tokens[index]

    def accept_word(self, *words: str) -> Token | None:
        index = self.index
        if index < self.size:
            token = self.tokens[index]
            if token.kind == "word" and token.lower in words:
                self.index = index + 1
                return token
        return None

    def accept_words(self, phrase: str) -> bool:
        if self.at_words(phrase):
            self.index += len(_phrase_words(phrase))
            return True
        return False

    def accept_op(self, *ops: str) -> Token | None:
        index = self.index
        if index < self.size:
            token = self.tokens[index]
            if token.kind == "op" and token.text in ops:
                self.index = index + 1
                return token
        return None

    def expect_word(self, *words: str, hint: str = "") -> Token:
        token = self.accept_word(*words)
        if token is None:
            wanted = " or ".join(f"'{w}'" for w in words)
            raise self.error(f"expected {wanted}{hint}")
        return token

    def expect_op(self, op: str, hint: str = "") -> Token:
        token = self.accept_op(op)
        if token is None:
            raise self.error(f"expected '{op}'{hint}")
        return token

    def expect_words_or(self, *phrases: str) -> str:
        for phrase in phrases:
            if self.accept_words(phrase):
                return phrase
        wanted = " or ".join(f"'{p}'" for p in phrases)
        raise self.error(f"expected {wanted}")

    def expect_name(self, what: str = "a name") -> Token:
        index = self.index
        if index >= self.size or self.tokens[index].kind != "word":
            raise self.error(f"expected {what}")
        self.index = index + 1
        return self.tokens[index]

    def expect_end(self, hint: str = "") -> None:
        self.accept_op(".")
        token = self.peek()
        if token is not None:
            raise ParseError(f"unexpected '{token.text}'{hint}", token.start, self._rest_end())

    # --- positions ------------------------------------------------------

    def _rest_end(self) -> int:
        return self.tokens[-1].end if self.tokens else len(self.span.text)

    def error(self, message: str) -> ParseError:
        token = self.peek()
        if token is None:
            end = len(self.span.text.rstrip())
            found = "the end of the sentence"
            return ParseError(f"{message}, found {found}", max(end - 1, 0), end)
        return ParseError(f"{message}, found '{token.text}'", token.start, token.end)

    def offset(self) -> int:
        """Offset where the next token starts (or the end of the text)."""
        return self.offset_at(self.index)

    def offset_at(self, index: int) -> int:
        """Offset where the token at `index` starts (or the end of the text)."""
        return self.tokens[index].start if index < self.size else len(self.span.text)

    def last_end(self) -> int:
        return self.tokens[self.index - 1].end if self.index > 0 else 0

    def range(self, start: int, end: int | None = None) -> SourceRange:
        if end is None:
            index = self.index
            end = self.tokens[index - 1].end if index > 0 else 0
        return self.span.range_between(start, end)
