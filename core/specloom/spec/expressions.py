"""Expressions and conditions of flows and rules.

condition  := and_cond ("or" and_cond)*
and_cond   := not_cond ("and" not_cond)*
not_cond   := "not" not_cond | predicate
predicate  := expr compare expr | name "is" ["not"] "given"
compare    := = | != | < | <= | > | >= | "is" ["not"] | "is" ["not"] "after" | "before"
            | "is" ["not"] ("at least" | "at most" | "more than" | "less than" | ...)
            | "exceeds" | "does not exceed" | "equals"
expr       := term (("+" | "-") term)*
term       := unary (("*" | "/") unary)*
unary      := "-" unary | atom
atom       := number | "string" | true | false | now | today | STATE | path
            | aggregate | "(" expr ")"
aggregate  := "count of" path [filters]
            | ("sum" | "min" | "max") "of" expr "over" path [filters]
filters    := "with" filter ("and" filter)*
filter     := field [compare] atom
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from specloom.ir.behaviour import (
    AggregateExpr,
    BinaryExpr,
    BoolOp,
    ClockExpr,
    CompareOp,
    Comparison,
    Condition,
    Expr,
    Filter,
    IsGiven,
    LiteralExpr,
    NegateExpr,
    NotCondition,
    PathExpr,
)
from specloom.ir.common import Value
from specloom.ir.trusted import trusted
from specloom.spec.sentences import Cursor, ParseError, Token

_OPS: dict[str, CompareOp] = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_NEGATED: dict[CompareOp, CompareOp] = {
    "=": "!=",
    "!=": "=",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
}
# phrases after "is" (or alone), longest first
_PHRASES: list[tuple[str, CompareOp]] = [
    ("greater than or equal to", ">="),
    ("less than or equal to", "<="),
    ("on or after", ">="),
    ("on or before", "<="),
    ("later than", ">"),
    ("earlier than", "<"),
    ("greater than", ">"),
    ("more than", ">"),
    ("less than", "<"),
    ("fewer than", "<"),
    ("at least", ">="),
    ("at most", "<="),
    ("equal to", "="),
    ("after", ">"),
    ("before", "<"),
    ("above", ">"),
    ("below", "<"),
]
_PHRASES_BY_FIRST_WORD: dict[str, list[tuple[str, CompareOp]]] = {}
for _phrase, _op in _PHRASES:
    _PHRASES_BY_FIRST_WORD.setdefault(_phrase.split()[0], []).append((_phrase, _op))
_AGGREGATES = ("count", "sum", "min", "max", "average")
_FUNCTIONS: dict[str, Literal["sum", "min", "max", "average"]] = {
    "sum": "sum",
    "min": "min",
    "max": "max",
    "average": "average",
}
_PRESENT = frozenset({"given", "set", "present", "provided"})
_ABSENT = frozenset({"missing", "null", "none", "absent", "unset"})
_SIGNS: dict[str, tuple[CompareOp, str]] = {
    "positive": (">", "0"),
    "negative": ("<", "0"),
    "zero": ("=", "0"),
}
_ARTICLES = frozenset({"the", "its", "their"})
# words `atom` reads as something other than a name
_SPECIAL_WORDS = frozenset(
    {"true", "false", "yes", "no", "null", "nothing", "now", "today", *_AGGREGATES, *_ARTICLES}
)
_ARITHMETIC = frozenset({"+", "-", "*", "/"})


@lru_cache(maxsize=1024)
def literal(kind: str, text: str) -> Value:
    """A literal value; values are frozen, so one is shared wherever it is written."""
    return Value.model_validate({"kind": kind, "text": text})


def is_state_name(text: str) -> bool:
    """ACTIVE, IN_PROGRESS: an enum state is written in capitals."""
    return text.isupper() and "." not in text and any(ch.isalpha() for ch in text)


class ExpressionParser:
    """Parses expressions and conditions at a cursor."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    # --- conditions ---------------------------------------------------------

    # Most conditions and expressions are one operand: where one starts (`first`, the
    # index of its first token) is only turned into an offset when an operator follows.

    def condition(self) -> Condition:
        cursor = self.cursor
        first = cursor.index
        operand = self.and_condition()
        if not cursor.accept_word("or"):
            return operand
        operands = [operand, self.and_condition()]
        while cursor.accept_word("or"):
            operands.append(self.and_condition())
        where = cursor.range(cursor.offset_at(first))
        return trusted[BoolOp](op="or", operands=operands, range=where)

    def and_condition(self) -> Condition:
        cursor = self.cursor
        first = cursor.index
        operand = self.not_condition()
        if not cursor.accept_word("and"):
            return operand
        operands = [operand, self.not_condition()]
        while cursor.accept_word("and"):
            operands.append(self.not_condition())
        where = cursor.range(cursor.offset_at(first))
        return trusted[BoolOp](op="and", operands=operands, range=where)

    def not_condition(self) -> Condition:
        cursor = self.cursor
        negation = cursor.accept_word("not")
        if negation is None:
            return self.predicate()
        with cursor.nested():
            operand = self.not_condition()
        return trusted[NotCondition](operand=operand, range=cursor.range(negation.start))

    def predicate(self) -> Condition:
        cursor = self.cursor
        start = cursor.offset()
        if cursor.at_op("("):
            mark = cursor.index
            cursor.next()
            try:
                with cursor.nested():
                    inner = self.condition()
                cursor.expect_op(")")
                if not self._continues_a_value():
                    return inner
            except ParseError:
                pass
            cursor.index = mark  # an arithmetic group: '(seats - quantity) >= 0'
        left = self.expression()
        # 'exists', 'does not exist', 'is given', 'is between', 'is positive'...: each
        # phrase starts with one of these words, so the rest can skip looking for them
        if cursor.at_word("is", "exists", "does", "between"):
            present = self._presence()
            if present is not None:
                if isinstance(left, PathExpr) and len(left.parts) == 1:
                    where = cursor.range(start)
                    return trusted[IsGiven](input=left.parts[0], negated=not present, range=where)
                null = trusted[LiteralExpr](
                    value=literal("null", "null"), range=cursor.range(start)
                )
                op: CompareOp = "!=" if present else "="
                return trusted[Comparison](op=op, left=left, right=null, range=cursor.range(start))
            between = self._between(left, start)
            if between is not None:
                return between
            adjective = self._adjective(left, start)
            if adjective is not None:
                return adjective
        mark = cursor.index
        try:
            op = self.comparison_operator()
        except ParseError:
            # A bare yes/no value: 'Require book.active' reads 'book.active is true'.
            cursor.index = mark
            true = trusted[LiteralExpr](value=literal("boolean", "true"), range=cursor.range(start))
            return trusted[Comparison](op="=", left=left, right=true, range=cursor.range(start))
        right = self.expression()
        return trusted[Comparison](op=op, left=left, right=right, range=cursor.range(start))

    def _continues_a_value(self) -> bool:
        """After '( ... )': does an operator or comparison follow, making the group a value?"""
        token = self.cursor.peek()
        if token is None:
            return False
        if token.kind == "op":
            return token.text in _OPS or token.text in "+-*/"
        return token.lower in ("is", "exceeds", "equals", "does", "never", "at") or (
            token.lower in _PHRASES_BY_FIRST_WORD
        )

    def _presence(self) -> bool | None:
        """'is given', 'is set', 'exists' (True); 'is missing', 'is not set', 'is null'
        (False); None when no such phrase follows."""
        cursor = self.cursor
        if cursor.accept_word("exists"):
            return True
        if cursor.accept_words("does not exist"):
            return False
        if not cursor.at_word("is"):
            return None
        negated = cursor.at_word("not", ahead=1)
        word = cursor.peek(2 if negated else 1)
        if word is None or word.kind != "word":
            return None
        if word.lower in _PRESENT:
            present = True
        elif word.lower in _ABSENT:
            present = False
        else:
            return None
        cursor.index += 3 if negated else 2
        return present != negated

    def _between(self, left: Expr, start: int) -> Condition | None:
        """'x is between 1 and 10' (both ends included)."""
        cursor = self.cursor
        if not (cursor.at_words("is between") or cursor.at_word("between")):
            return None
        cursor.accept_word("is")
        cursor.next()
        low = self.expression()
        cursor.expect_word("and", hint=" (between <low> and <high>)")
        high = self.expression()
        where = cursor.range(start)
        return trusted[BoolOp](
            op="and",
            operands=[
                trusted[Comparison](op=">=", left=left, right=low, range=where),
                trusted[Comparison](op="<=", left=left, right=high, range=where),
            ],
            range=where,
        )

    def _adjective(self, left: Expr, start: int) -> Condition | None:
        """'x is positive', 'x is not negative', 'x is zero'."""
        cursor = self.cursor
        if not cursor.at_word("is"):
            return None
        negated = cursor.at_word("not", ahead=1)
        word = cursor.peek(2 if negated else 1)
        if word is None or word.kind != "word" or word.lower not in _SIGNS:
            return None
        cursor.index += 3 if negated else 2
        op, number = _SIGNS[word.lower]
        zero = trusted[LiteralExpr](
            value=literal("integer", number), range=cursor.range(word.start)
        )
        return trusted[Comparison](
            op=_NEGATED[op] if negated else op,
            left=left,
            right=zero,
            range=cursor.range(start),
        )

    def comparison_operator(self) -> CompareOp:
        cursor = self.cursor
        token = cursor.peek()
        if token is not None and token.kind == "op" and token.text in _OPS:
            cursor.next()
            return _OPS[token.text]
        if token is not None and token.kind == "word":  # every phrase starts with a word
            lower = token.lower
            if lower == "exceeds":
                cursor.next()
                return ">"
            if lower == "equals":
                cursor.next()
                return "="
            if lower == "does" and cursor.accept_words("does not exceed"):
                return "<="
            if lower == "never" and cursor.accept_words("never exceeds"):
                return "<="
            if lower == "is":
                cursor.next()
                negated = cursor.accept_word("not") is not None
                op: CompareOp = self.phrase() or "="
                return _NEGATED[op] if negated else op
            found = self.phrase()
            if found is not None:
                return found
        raise cursor.error("expected a comparison such as '=', '>=', 'is', 'is after'")

    def phrase(self) -> CompareOp | None:
        """Take a comparison phrase ('at least', 'is after'...) if one comes next."""
        token = self.cursor.peek()
        if token is None or token.kind != "word":
            return None
        for phrase, phrase_op in _PHRASES_BY_FIRST_WORD.get(token.lower, ()):
            if self.cursor.accept_words(phrase):
                return phrase_op
        return None

    # --- expressions --------------------------------------------------------

    def expression(self) -> Expr:
        lone = self._lone_operand()
        if lone is not None:
            return lone
        cursor = self.cursor
        first = cursor.index
        left = self.term()
        while (token := cursor.accept_op("+", "-")) is not None:
            cursor.count_operator()
            right = self.term()
            left = trusted[BinaryExpr](
                op="+" if token.text == "+" else "-",
                left=left,
                right=right,
                range=cursor.range(cursor.offset_at(first)),
            )
        return left

    def _lone_operand(self) -> Expr | None:
        """A number, a name or a state with no arithmetic after it, the most frequent
        expression: what `term`, `unary` and `atom` make of it, without going through
        them. None for anything else."""
        cursor = self.cursor
        index = cursor.index
        if index >= cursor.size:
            return None
        token = cursor.tokens[index]
        if index + 1 < cursor.size:
            following = cursor.tokens[index + 1]
            if following.kind == "op" and following.text in _ARITHMETIC:
                return None
        kind = token.kind
        if kind == "number":
            cursor.index = index + 1
            return self.number(token)
        if kind != "word" or token.possessive or token.lower in _SPECIAL_WORDS:
            return None
        cursor.index = index + 1
        where = cursor.range(token.start)
        if is_state_name(token.text):
            return trusted[LiteralExpr](value=literal("enum", token.text), range=where)
        return trusted[PathExpr](parts=token.text.split("."), range=where)

    def term(self) -> Expr:
        cursor = self.cursor
        first = cursor.index
        left = self.unary()
        while (token := cursor.accept_op("*", "/")) is not None:
            cursor.count_operator()
            right = self.unary()
            left = trusted[BinaryExpr](
                op="*" if token.text == "*" else "/",
                left=left,
                right=right,
                range=cursor.range(cursor.offset_at(first)),
            )
        return left

    def unary(self) -> Expr:
        cursor = self.cursor
        minus = cursor.accept_op("-")
        if minus is None:
            return self.atom()
        start = minus.start
        number = cursor.peek()
        if number is not None and number.kind == "number":
            cursor.next()
            return self.number(number, negative=True, start=start)
        cursor.count_operator()
        with cursor.nested():
            operand = self.unary()
        return trusted[NegateExpr](operand=operand, range=cursor.range(start))

    def number(self, token: Token, negative: bool = False, start: int | None = None) -> Expr:
        text = ("-" if negative else "") + token.text
        kind = "decimal" if "." in token.text else "integer"
        where = self.cursor.range(token.start if start is None else start)
        return trusted[LiteralExpr](value=literal(kind, text), range=where)

    def atom(self) -> Expr:
        cursor = self.cursor
        token = cursor.peek()
        if token is None:
            raise cursor.error("expected a value")
        start = token.start
        if token.kind == "number":
            cursor.next()
            return self.number(token)
        if token.kind == "string":
            cursor.next()
            return trusted[LiteralExpr](
                value=literal("string", token.value), range=cursor.range(start)
            )
        if cursor.accept_op("("):
            with cursor.nested():
                inner = self.expression()
            cursor.expect_op(")")
            return inner
        if token.kind != "word":
            raise cursor.error("expected a value, a name or an expression")
        lower = token.lower
        if lower in ("true", "false", "yes", "no"):
            cursor.next()
            value = "true" if lower in ("true", "yes") else "false"
            return trusted[LiteralExpr](value=literal("boolean", value), range=cursor.range(start))
        if lower in ("null", "nothing"):
            cursor.next()
            return trusted[LiteralExpr](value=literal("null", "null"), range=cursor.range(start))
        if lower in ("now", "today"):
            cursor.next()
            clock = "now" if lower == "now" else "today"
            return trusted[ClockExpr](clock=clock, range=cursor.range(start))
        if lower in _AGGREGATES and cursor.at_word("of", ahead=1):
            return self.aggregate()
        following = cursor.peek(1)
        if lower in _ARTICLES and following is not None and following.kind == "word":
            return self.path()
        if is_state_name(token.text) and not token.possessive:
            cursor.next()
            return trusted[LiteralExpr](
                value=literal("enum", token.text), range=cursor.range(start)
            )
        return self.path()

    def path(self, what: str = "a name") -> PathExpr:
        """`loan.book.title`, or in words `the loan's book's title`."""
        token = self.cursor.expect_name(what)
        start = token.start
        if token.lower in _ARTICLES and self.cursor.at_kind("word"):
            # "the loan's book" reads as "loan.book"; in a rule "its total" as "total"
            token = self.cursor.next()
        parts = token.text.split(".")
        while token.possessive:
            token = self.cursor.expect_name(f'a field after "{token.text}\'s"')
            parts.extend(token.text.split("."))
        return trusted[PathExpr](parts=parts, range=self.cursor.range(start))

    def aggregate(self) -> AggregateExpr:
        cursor = self.cursor
        start = cursor.offset()
        function = cursor.next().lower
        cursor.expect_word("of")
        if function == "count":
            collection = self.path("a collection such as 'invoice.lines'")
            filters = self.filters()
            return trusted[AggregateExpr](
                function="count",
                collection=collection,
                filters=filters,
                range=cursor.range(start),
            )
        value = self.expression()
        cursor.expect_word("over", hint=f" ({function} of <value> over <collection>)")
        collection = self.path("a collection such as 'invoice.lines'")
        filters = self.filters()
        variable = _first_name(value)
        return trusted[AggregateExpr](
            function=_FUNCTIONS[function],
            collection=collection,
            variable=variable,
            value=value,
            filters=filters,
            range=cursor.range(start),
        )

    def filters(self) -> list[Filter]:
        if not self.cursor.accept_word("with", "where"):
            return []
        filters = [self.filter()]
        while self.cursor.at_word("and") and self._filter_follows():
            self.cursor.next()
            filters.append(self.filter())
        return filters

    def _filter_follows(self) -> bool:
        name = self.cursor.peek(1)
        after = self.cursor.peek(2)
        if name is None or name.kind != "word" or "." in name.text or after is None:
            return False
        if after.kind in ("number", "string") or (after.kind == "op" and after.text in _OPS):
            return True
        return after.kind == "word" and (
            after.lower in ("is", "true", "false") or is_state_name(after.text)
        )

    def filter(self) -> Filter:
        cursor = self.cursor
        start = cursor.offset()
        field = cursor.expect_name("a field to filter on")
        op: CompareOp = "="
        token = cursor.peek()
        if (token is not None and token.kind == "op" and token.text in _OPS) or cursor.at_word(
            "is"
        ):
            op = self.comparison_operator()
        value = self.atom()
        return trusted[Filter](field=field.text, op=op, value=value, range=cursor.range(start))


def _first_name(expr: Expr) -> str | None:
    if isinstance(expr, PathExpr):
        return expr.parts[0]
    if isinstance(expr, BinaryExpr):
        return _first_name(expr.left) or _first_name(expr.right)
    if isinstance(expr, NegateExpr):
        return _first_name(expr.operand)
    return None
