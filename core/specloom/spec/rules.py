"""The Rules section: invariants written as sentences, checked on every write.

rule     := [ID "."] (compare | overlap | at_most) [status] ["." | ";" note]
compare  := ("A" | "An" | "Each" | "Every") entity "'s" field ["never"] relation operand
relation := "is" ["not" | "never" | "always"] [phrase] | "exceeds" | "never exceeds" | ...
operand  := "its" field ("'s" field)* | "the" entity ("itself" | "themselves")
          | "negative" | "positive" | "zero" | expr
overlap  := "Two" entities "of the same" field ("and" field)* "never overlap" ["in time"]
            ["from" field "to" field]
at_most  := ("A" | "An" | "Each") entity "has at most" NUMBER Entity [filters]
status   := "(" STATUS [STRING] ")"
"""

from __future__ import annotations

import re

from specloom.ir.behaviour import (
    CardinalityRule,
    CompareOp,
    CompareRule,
    Expr,
    LiteralExpr,
    NoOverlapRule,
    PathExpr,
    Rule,
    RuleBody,
)
from specloom.ir.trusted import trusted
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.endpoints import REQUIREMENT_ID
from specloom.spec.expressions import _NEGATED, ExpressionParser, literal
from specloom.spec.names import EntityNames, listing
from specloom.spec.sentences import Cursor, ParseError
from specloom.spec.source import Span

_HALF_OPEN_NOTE = re.compile(
    r"^\s*(?:one|a \w+|an \w+) that ends when another starts does not overlap(?: it)?\.?\s*$",
    re.I,
)
_MODALS = ("must", "may", "can", "should", "shall", "will", "do", "does")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "zero": 0}
_ADJECTIVES: dict[str, tuple[CompareOp, str]] = {
    "negative": ("<", "0"),
    "positive": (">", "0"),
    "zero": ("=", "0"),
}
_OPS = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class RuleParser:
    """Compiles one rule line; entity names are resolved against `entities`."""

    def __init__(self, sink: DiagnosticSink, entities: list[str]) -> None:
        self.sink = sink
        self.entities = entities
        self.index = EntityNames(entities)

    def line(self, span: Span) -> Rule | None:
        text = span.text
        rule_id = ""
        id_match = REQUIREMENT_ID.match(text)
        body = span
        if id_match:
            rule_id = id_match.group(1)
            body = span.sub(id_match.end(), len(text))
        note_at = body.text.find(";")
        if note_at >= 0:
            note = body.text[note_at + 1 :]
            if not _HALF_OPEN_NOTE.match(note):
                self.sink.add(
                    "SL104",
                    "this part of the rule is not interpreted: state one rule per line",
                    body.range(note_at + 1, len(body.text)),
                )
            body = body.sub(0, note_at)
        cursor = Cursor(body)
        try:
            rule_body = self.body(cursor)
            if rule_body is None:
                return None  # the entity is unknown, and that is already reported
            status, message = self.status(cursor)
            cursor.expect_end(hint=": a rule ends after its status, as in '(409 \"message\")'")
        except ParseError as error:
            self.sink.add(
                "SL501",
                f"cannot interpret this rule: {error.message}. Rules read like "
                '"A book\'s available_copies never exceeds its total_copies", '
                '"Two bookings of the same room never overlap" or '
                '"A project has at most one Invoice with status DRAFT"',
                body.range(error.start, error.end),
            )
            return None
        if status is not None and not 400 <= status <= 599:
            self.sink.add(
                "SL408",
                f"{status} is not an error status: a broken rule answers a 4xx or 5xx code",
                span.range(),
            )
            status = None
        default_status = 409 if rule_body.kind in ("no_overlap", "cardinality") else 422
        return trusted[Rule](
            id=rule_id,
            explicit_id=bool(rule_id),
            text=text.strip(),
            body=rule_body,
            status=status or default_status,
            status_explicit=status is not None,
            message=message,
            range=span.range(),
        )

    def status(self, cursor: Cursor) -> tuple[int | None, str]:
        if not cursor.accept_op("("):
            return None, ""
        token = cursor.peek()
        if token is None or token.kind != "number":
            raise cursor.error("expected a status code in parentheses, as in '(409)'")
        cursor.next()
        message = ""
        following = cursor.peek()
        if following is not None and following.kind == "string":
            message = cursor.next().value
        cursor.expect_op(")")
        return int(token.text), message

    def entity(self, cursor: Cursor, start: int, words: list[str]) -> str | None:
        phrase = " ".join(words)
        name = self.index.find(phrase)
        if name is None:
            self.sink.add(
                "SL502",
                f"'{phrase}' names no entity; write the entity's name as in its heading "
                f"(one of {listing(self.entities) or 'none'})",
                cursor.span.range(start, cursor.last_end()),
            )
        return name

    def body(self, cursor: Cursor) -> RuleBody | None:
        if cursor.at_word("two", "no"):
            return self.overlap(cursor)
        start = cursor.offset()
        cursor.expect_word("a", "an", "each", "every", "the", hint=" at the start of a rule")
        words: list[str] = []
        subject_start = cursor.offset()
        while True:
            token = cursor.expect_name("the entity the rule is about")
            words.append(token.text)
            if token.possessive:
                entity = self.entity(cursor, subject_start, words)
                return self.compare(cursor, entity, start) if entity else None
            if cursor.at_word("has", "have"):
                entity = self.entity(cursor, subject_start, words)
                return self.at_most(cursor, entity) if entity else None
            if len(words) > 4:
                raise cursor.error("expected the entity's possessive, as in \"A book's\"")

    def field_path(self, cursor: Cursor) -> PathExpr:
        start = cursor.offset()
        parts: list[str] = []
        while True:
            token = cursor.expect_name("a field name")
            parts.extend(token.text.split("."))
            if not token.possessive:
                break
        return trusted[PathExpr](parts=parts, range=cursor.range(start))

    def compare(self, cursor: Cursor, entity: str, start: int) -> CompareRule:
        left = self.field_path(cursor)
        negated = False
        # 'never exceeds', 'cannot exceed', 'must not be', 'does not exceed', 'must be'
        if cursor.accept_word("never", "cannot") or self.modal_not(cursor):
            negated = True
        else:
            cursor.accept_word(*_MODALS, "always")
        op: CompareOp = "="
        if cursor.accept_word("is", "are", "be"):
            if cursor.accept_word("never") or cursor.accept_word("not"):
                negated = not negated
            else:
                cursor.accept_word("always")
            word = cursor.peek()
            if word is not None and word.kind == "word" and word.lower in _ADJECTIVES:
                cursor.next()
                adjective_op, number = _ADJECTIVES[word.lower]
                op = _NEGATED[adjective_op] if negated else adjective_op
                right: Expr = trusted[LiteralExpr](
                    value=literal("integer", number), range=cursor.range(word.start)
                )
                return trusted[CompareRule](
                    entity=entity,
                    op=op,
                    left=left,
                    right=right,
                    range=cursor.range(start),
                )
            op = ExpressionParser(cursor).phrase() or op
        elif cursor.accept_word("exceeds", "exceed"):
            op = ">"
        elif cursor.accept_word("equals", "equal"):
            op = "="
        else:
            token = cursor.peek()
            if token is not None and token.kind == "op" and token.text in _OPS:
                cursor.next()
                op = _OPS[token.text]  # type: ignore[assignment]  # values are CompareOp
            else:
                raise cursor.error(
                    "expected how the field compares: 'is after', 'never exceeds', "
                    "'is at least', 'is not', '<=' ..."
                )
        if negated:
            op = _NEGATED[op]
        right = self.operand(cursor, entity)
        return trusted[CompareRule](
            entity=entity, op=op, left=left, right=right, range=cursor.range(start)
        )

    def operand(self, cursor: Cursor, entity: str) -> Expr:
        start = cursor.offset()
        if cursor.at_word("the") and cursor.at_word("itself", "themselves", "themself", ahead=2):
            cursor.index += 3
            return trusted[PathExpr](parts=["self"], range=cursor.range(start))
        if cursor.at_word("itself", "themselves"):
            cursor.next()
            return trusted[PathExpr](parts=["self"], range=cursor.range(start))
        return ExpressionParser(cursor).expression()

    def overlap(self, cursor: Cursor) -> NoOverlapRule | None:
        start = cursor.next().start
        negative = cursor.tokens[cursor.index - 1].lower == "no"
        if negative:
            cursor.expect_word("two", hint=" ('No two <records> of the same <field> overlap')")
        words: list[str] = []
        subject_start = cursor.offset()
        while not cursor.at_word("of", "with", "for", "sharing"):
            words.append(cursor.expect_name("the records that must not overlap").text)
            if len(words) > 4:
                raise cursor.error("expected 'of the same <field>'")
        entity = self.entity(cursor, subject_start, words)
        cursor.next()
        cursor.accept_word("the")
        cursor.accept_word("same")
        key = [cursor.expect_name("the field they share").text]
        while cursor.accept_word("and") or cursor.accept_op(","):
            key.append(cursor.expect_name("the field they share").text)
        filters = ExpressionParser(cursor).filters()
        if negative:
            cursor.accept_word("ever", "may", "can", "do", "will")
            cursor.accept_word("ever")
        elif not (cursor.accept_word("never", "cannot") or self.modal_not(cursor)):
            raise cursor.error(
                "a no-overlap rule says they never overlap: write 'never overlap' or "
                "'must not overlap'"
            )
        cursor.expect_word("overlap", hint=" ('... never overlap')")
        cursor.accept_words("in time")
        range_start = range_end = ""
        if cursor.accept_word("from", "between"):
            range_start = cursor.expect_name("the field where a range starts").text
            cursor.expect_word("to", "and")
            range_end = cursor.expect_name("the field where a range ends").text
        if entity is None:
            return None
        return trusted[NoOverlapRule](
            entity=entity,
            key=key,
            start=range_start,
            end=range_end,
            filters=filters,
            range=cursor.range(start),
        )

    @staticmethod
    def modal_not(cursor: Cursor) -> bool:
        """'must not', 'may never', 'does not', 'should not': a negated modal verb."""
        if cursor.at_word(*_MODALS) and cursor.at_word("not", "never", ahead=1):
            cursor.index += 2
            return True
        return False

    def at_most(self, cursor: Cursor, owner: str) -> CardinalityRule | None:
        start = cursor.offset()
        cursor.next()
        cursor.expect_words_or("at most", "no more than")
        token = cursor.next()
        if token.kind == "number":
            maximum = int(token.text)
        elif token.lower in _NUMBER_WORDS:
            maximum = _NUMBER_WORDS[token.lower]
        else:
            raise ParseError("expected how many, as in 'at most one'", token.start, token.end)
        words: list[str] = []
        subject_start = cursor.offset()
        while not (cursor.at_end() or cursor.at_word("with", "where") or cursor.at_op("(")):
            words.append(cursor.expect_name("the entity counted").text)
        entity = self.entity(cursor, subject_start, words) if words else None
        filters = ExpressionParser(cursor).filters()
        if entity is None:
            return None
        return trusted[CardinalityRule](
            owner=owner,
            entity=entity,
            via="",
            maximum=maximum,
            filters=filters,
            range=cursor.range(start),
        )
