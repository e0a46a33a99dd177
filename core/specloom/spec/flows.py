"""The Flows section: `### F8. Borrow a book`, an `Input:` line and one step per item.

step      := guard | set | adjust | create | find | otherwise | for_each | if
           | delete | respond
guard     := ("Require" | "Ensure") condition [","] ("else" | "otherwise") STATUS [STRING]
set       := "Set" path "to" expr (("and" | ",") path "to" expr)*
           | "Set" path ("," path)* ["and" path] "from the input" [", where given"]
adjust    := ("Increase" | "Decrease") path "by" expr
create    := "Create" ("a" | "an") Entity ["with" value ("," value)* ["and" value]]
value     := field ["=" expr | "from" path]
find      := "Find" "the" Entity ["of" path] [filters] [";" "if found, use it"]
otherwise := "Otherwise" ([","] step | ":" nested steps)
for_each  := "For each" name "in" (path | "the" Entity "records of" path [filters]) ":"
if        := "If" condition (":" nested steps | "," step)
delete    := ("Delete" | "Remove") (["the"] path | ("every" | "all") name "of" path)
respond   := "Respond" [STATUS] ["with" ["the"] path] [STRING]
"""

from __future__ import annotations

import re

from specloom.ir.behaviour import (
    AdjustStep,
    Assignment,
    CreateStep,
    DeleteStep,
    FieldValue,
    Filter,
    FindStep,
    Flow,
    FlowInput,
    ForEachStep,
    Guard,
    IfStep,
    PathExpr,
    RecordQuery,
    RespondStep,
    SetFromInput,
    SetStep,
    Step,
)
from specloom.ir.trusted import trusted
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.document import Item
from specloom.spec.endpoints import REQUIREMENT_ID
from specloom.spec.entities import SCALAR_TYPES
from specloom.spec.expressions import ExpressionParser
from specloom.spec.names import IDENTIFIER, snake
from specloom.spec.sentences import Cursor, ParseError
from specloom.spec.source import Span

STEP_WORDS = (
    "Require, Set, Increase, Decrease, Create, Find, Otherwise, For each, If, Delete, Respond"
)
_INPUT = re.compile(r"^\s*inputs?\s*:\s*(.*)$", re.I | re.S)
_INPUT_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)]*)\))?$")
_INPUT_SEPARATORS = re.compile(r"[(),]|and\b")
_EACH_OPTIONAL = re.compile(r"\(\s*(?:each|all)\s+(optional|required)\s*\)\s*\.?\s*$", re.I)


def _input_pieces(body: str) -> list[tuple[int, int]]:
    """Offsets of the inputs in 'a, b (text, optional) and c': split at commas and
    'and' outside parentheses."""
    pieces: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for match in _INPUT_SEPARATORS.finditer(body):  # what can split, or nest
        found, index = match.group(), match.start()
        if found == "(":
            depth += 1
        elif found == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and found == ",":
            pieces.append((start, index))
            start = index + 1
        elif depth == 0 and found == "and" and (index == 0 or body[index - 1].isspace()):
            pieces.append((start, index))
            start = index + 3
    pieces.append((start, len(body)))
    return pieces


def _names_the_input(cursor: Cursor) -> bool:
    """Do the words 'input' and 'from' both occur ('Set x, y from the input')?"""
    text = cursor.span.text.lower()
    if "input" not in text or "from" not in text:
        return False  # the common case, without a look at every token
    words = {token.lower for token in cursor.tokens if token.kind == "word"}
    return "input" in words and "from" in words


def _status(cursor: Cursor) -> int:
    token = cursor.peek()
    if token is None or token.kind != "number" or "." in token.text:
        raise cursor.error("expected an HTTP status code such as 409")
    cursor.next()
    return int(token.text)


class FlowParser:
    """Compiles one `### Flow` subsection into a Flow."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink

    def heading(self, span: Span) -> Flow:
        match = REQUIREMENT_ID.match(span.text + " ")
        if match:
            name = span.text[match.end() :].strip() if match.end() <= len(span.text) else ""
            return trusted[Flow](id=match.group(1), name=name or match.group(1), range=span.range())
        name = span.text.strip()
        return trusted[Flow](id="", explicit_id=False, name=name, range=span.range())

    def is_input(self, span: Span) -> bool:
        return _INPUT.match(span.text) is not None

    def inputs(self, span: Span) -> list[FlowInput]:
        match = _INPUT.match(span.text)
        assert match is not None
        body = match.group(1)
        body_start = match.start(1)
        all_optional = False
        each = _EACH_OPTIONAL.search(body)
        if each:
            all_optional = each.group(1).lower() == "optional"
            body = body[: each.start()]
        result: list[FlowInput] = []
        for piece_start, piece_end in _input_pieces(body):
            piece = body[piece_start:piece_end]
            start = body_start + piece_start
            text = piece.strip().rstrip(".").strip()
            if not text:
                continue
            offset = start + piece.find(text)
            where = span.range(offset, offset + len(text))
            item = _INPUT_ITEM.match(text)
            if not item:
                self.sink.add(
                    "SL411",
                    f"'{text}' is not an input: list input names separated by commas, each "
                    "with an optional '(optional)' or '(integer)', as in "
                    "'Input: title, author, total_copies (each optional)'",
                    where,
                )
                continue
            optional = all_optional
            explicit_type: str | None = None
            for note in re.split(r"[,\s]+", item.group(2) or ""):
                lower = note.lower()
                if not note:
                    continue
                if lower == "optional":
                    optional = True
                elif lower == "required":
                    optional = False
                elif lower in SCALAR_TYPES:
                    explicit_type = lower
                else:
                    self.sink.add(
                        "SL411",
                        f"'{note}' is not understood in the notes of input '{item.group(1)}': "
                        "write a type (string, text, integer, decimal, boolean, date, "
                        "datetime, uuid, email, url) and/or 'optional'; constraints belong "
                        "to fields or to Require steps",
                        where,
                    )
            result.append(
                trusted[FlowInput](
                    name=item.group(1),
                    optional=optional,
                    explicit_type=explicit_type,
                    range=where,
                )
            )
        return result

    # --- steps ----------------------------------------------------------------

    def steps(self, items: list[Item]) -> list[Step]:
        steps: list[Step] = []
        for item in items:
            self.item(item, steps)
        return steps

    def item(self, item: Item, steps: list[Step]) -> None:
        cursor = Cursor(item.span)
        try:
            if cursor.at_word("otherwise", "else"):
                self.otherwise(cursor, item, steps)
                return
            step = self.step(cursor, item)
        except ParseError as error:
            self.sink.add("SL401", self._explain(error), item.span.range(error.start, error.end))
            return
        if step is not None:
            steps.append(step)
            if item.children and not isinstance(step, (ForEachStep, IfStep)):
                for child in item.children:
                    self.sink.add(
                        "SL401",
                        "this step is nested under one that takes no nested steps: only "
                        "'If ...:', 'Otherwise:' and 'For each ...:' do",
                        child.span.range(),
                    )

    def _explain(self, error: ParseError) -> str:
        return f"cannot interpret this step: {error.message}"

    def otherwise(self, cursor: Cursor, item: Item, steps: list[Step]) -> None:
        start = cursor.next().start
        previous = steps[-1] if steps else None
        if not isinstance(previous, (IfStep, FindStep)):
            raise_at = item.span.range(start, cursor.last_end())
            self.sink.add(
                "SL401",
                "'Otherwise' must follow an 'If' step or a 'Find' step",
                raise_at,
            )
            return
        if cursor.accept_op(":") and cursor.at_end():
            branch = self.steps(item.children)
        else:
            cursor.accept_op(",")
            step = self.step(cursor, item)
            branch = [step] if step is not None else []
        previous.otherwise.extend(branch)

    def step(self, cursor: Cursor, item: Item) -> Step | None:
        token = cursor.peek()
        if token is None:
            raise cursor.error("expected a step")
        word = token.lower
        if word in ("require", "ensure"):
            return self.guard(cursor)
        if word == "set":
            return self.set_step(cursor)
        if word in ("increase", "decrease"):
            return self.adjust(cursor)
        if word == "create":
            return self.create(cursor)
        if word == "find":
            return self.find(cursor)
        if word == "for":
            return self.for_each(cursor, item)
        if word == "if":
            return self.if_step(cursor, item)
        if word in ("delete", "remove"):
            return self.delete(cursor)
        if word == "respond":
            return self.respond(cursor)
        raise cursor.error(f"a step begins with one of {STEP_WORDS}")

    def guard(self, cursor: Cursor) -> Guard:
        start = cursor.next().start
        cursor.accept_word("that")
        condition = ExpressionParser(cursor).condition()
        cursor.accept_op(",")
        cursor.expect_word("else", "otherwise", hint=' then a status and a message: else 409 "..."')
        status = _status(cursor)
        message = ""
        token = cursor.peek()
        if token is not None and token.kind == "string":
            message = cursor.next().value
        cursor.expect_end()
        return trusted[Guard](
            condition=condition, status=status, message=message, range=cursor.range(start)
        )

    def set_step(self, cursor: Cursor) -> Step:
        start = cursor.next().start
        expressions = ExpressionParser(cursor)
        if _names_the_input(cursor):
            targets = [expressions.path("a field to set")]
            while cursor.accept_op(",") or cursor.accept_word("and"):
                targets.append(expressions.path("a field to set"))
            cursor.expect_word("from")
            cursor.accept_word("the")
            cursor.expect_word("input", "inputs")
            only_given = False
            cursor.accept_op(",")
            if cursor.accept_word("where", "when", "if"):
                cursor.expect_word("given", "sent", "present")
                only_given = True
            cursor.expect_end()
            return trusted[SetFromInput](
                targets=targets, only_given=only_given, range=cursor.range(start)
            )
        assignments: list[Assignment] = []
        while True:
            assignment_start = cursor.offset()
            target = expressions.path("a field to set, as in 'loan.status'")
            if cursor.accept_op("=") is None:
                cursor.expect_word("to", hint=" (Set <field> to <value>)")
            value = expressions.expression()
            assignments.append(
                trusted[Assignment](
                    target=target, value=value, range=cursor.range(assignment_start)
                )
            )
            if cursor.accept_op(",") is None and cursor.accept_word("and") is None:
                break
            cursor.accept_word("and")
        cursor.expect_end()
        return trusted[SetStep](assignments=assignments, range=cursor.range(start))

    def adjust(self, cursor: Cursor) -> AdjustStep:
        token = cursor.next()
        expressions = ExpressionParser(cursor)
        target = expressions.path("a number field, as in 'book.available_copies'")
        cursor.expect_word("by", hint=" (Increase <field> by <amount>)")
        amount = expressions.expression()
        cursor.expect_end()
        return trusted[AdjustStep](
            direction="increase" if token.lower == "increase" else "decrease",
            target=target,
            amount=amount,
            range=cursor.range(token.start),
        )

    def create(self, cursor: Cursor) -> CreateStep:
        start = cursor.next().start
        cursor.accept_word("a", "an", "the", "new")
        cursor.accept_word("new")
        entity = self.entity_phrase(cursor, "an entity name, as in 'Create a Loan'", ("with",))
        expressions = ExpressionParser(cursor)
        fields: list[FieldValue] = []
        if cursor.accept_word("with"):
            while True:
                value_start = cursor.offset()
                name = cursor.expect_name("a field of the new record")
                if "." in name.text:
                    raise cursor.error(
                        f"name the field of the new {entity} and where its value comes "
                        f"from, as in 'amount = {name.text}'"
                    )
                value: PathExpr | object
                if cursor.accept_op("=") or cursor.accept_word("as"):
                    value = expressions.expression()
                    where = cursor.range(value_start)
                elif cursor.accept_word("from") or cursor.accept_words("copied from"):
                    source = expressions.path("the record to copy from")
                    value = trusted[PathExpr](parts=[*source.parts, name.text], range=source.range)
                    where = cursor.range(value_start)
                else:
                    # the name alone: the value's range is the field's (one range, shared)
                    where = cursor.range(value_start)
                    value = trusted[PathExpr](parts=[name.text], range=where)
                fields.append(trusted[FieldValue](field=name.text, value=value, range=where))
                if cursor.accept_op(",") is None and cursor.accept_word("and") is None:
                    break
                cursor.accept_word("and")
        cursor.expect_end()
        return trusted[CreateStep](
            entity=entity,
            variable=snake(entity),
            fields=fields,
            range=cursor.range(start),
        )

    @staticmethod
    def entity_phrase(cursor: Cursor, what: str, stops: tuple[str, ...]) -> str:
        """An entity named as in its heading (`TimeEntry`) or in words (`time entry`);
        analysis resolves the words to the entity."""
        words = [cursor.expect_name(what).text]
        while len(words) < 4:
            token = cursor.peek()
            if token is None or token.kind != "word" or token.lower in stops or "." in token.text:
                break
            words.append(cursor.next().text)
        return " ".join(words)

    def query(self, cursor: Cursor, entity_start: int) -> RecordQuery:
        expressions = ExpressionParser(cursor)
        entity = self.entity_phrase(
            cursor, "an entity name", ("records", "record", "of", "for", "in", "with", "where")
        )
        cursor.accept_word("records", "record")
        owner = None
        if cursor.accept_word("of", "for", "in"):
            owner = expressions.path("the record they belong to")
        filters = expressions.filters()
        return trusted[RecordQuery](
            entity=entity,
            owner=owner,
            filters=filters,
            range=cursor.range(entity_start),
        )

    def find(self, cursor: Cursor) -> FindStep:
        start = cursor.next().start
        cursor.accept_word("the", "a", "an")
        query = self.query(cursor, cursor.offset())
        if cursor.accept_op(";") or cursor.accept_op(","):
            cursor.expect_word("if")
            cursor.expect_word("found", "one", "it")
            cursor.accept_word("exists", "is")
            cursor.accept_word("found")
            cursor.accept_op(",")
            cursor.expect_word("use", "reuse", "take")
            cursor.accept_word("it", "that", "the")
        cursor.expect_end()
        return trusted[FindStep](
            variable=snake(query.entity), query=query, range=cursor.range(start)
        )

    def for_each(self, cursor: Cursor, item: Item) -> ForEachStep:
        start = cursor.next().start
        cursor.expect_word("each", hint=" (For each <name> in <collection>:)")
        variable = cursor.expect_name("a name for each record")
        if not IDENTIFIER.match(variable.text):
            raise cursor.error("the loop's name is one word, as in 'For each line in ...'")
        cursor.expect_word("in", "of")
        collection: PathExpr | None = None
        query: RecordQuery | None = None
        filters: list[Filter] = []
        following = cursor.peek(1)
        if cursor.at_word("the") and not (following is not None and following.possessive):
            cursor.next()
            query = self.query(cursor, cursor.offset())
        else:
            expressions = ExpressionParser(cursor)
            collection = expressions.path("a collection, as in 'invoice.lines'")
            filters = expressions.filters()
        cursor.expect_op(":", hint=" then the steps for each record, nested below")
        cursor.expect_end()
        steps = self.steps(item.children)
        if not item.children:
            raise cursor.error("'For each' needs nested steps below it")
        return trusted[ForEachStep](
            variable=variable.text,
            collection=collection,
            query=query,
            filters=filters,
            steps=steps,
            range=cursor.range(start),
        )

    def if_step(self, cursor: Cursor, item: Item) -> IfStep:
        start = cursor.next().start
        condition = ExpressionParser(cursor).condition()
        if cursor.accept_op(":"):
            cursor.expect_end()
            if not item.children:
                raise cursor.error("'If ...:' needs nested steps below it")
            then = self.steps(item.children)
        else:
            cursor.expect_op(
                ",", hint=" ('If <condition>:' with nested steps, or 'If <condition>, <step>')"
            )
            cursor.accept_word("then")
            with cursor.nested():
                inner = self.step(cursor, item)
            then = [inner] if inner is not None else []
        return trusted[IfStep](condition=condition, then=then, range=cursor.range(start))

    def delete(self, cursor: Cursor) -> DeleteStep:
        start = cursor.next().start
        expressions = ExpressionParser(cursor)
        if cursor.accept_word("every", "all", "each"):
            name = cursor.expect_name("what to delete, as in 'every line of invoice'")
            cursor.expect_word("of", "in", "from")
            owner = expressions.path("the record they belong to")
            cursor.expect_end()
            target = trusted[PathExpr](
                parts=[*owner.parts, name.text], range=cursor.range(name.start)
            )
            return trusted[DeleteStep](target=target, every=True, range=cursor.range(start))
        cursor.accept_word("the")
        target = expressions.path("the record to delete")
        cursor.expect_end()
        return trusted[DeleteStep](target=target, range=cursor.range(start))

    def respond(self, cursor: Cursor) -> RespondStep:
        start = cursor.next().start
        status = 200
        token = cursor.peek()
        if token is not None and token.kind == "number":
            status = _status(cursor)
        body: PathExpr | None = None
        if cursor.accept_word("with"):
            cursor.accept_word("the", "a", "an")
            body = ExpressionParser(cursor).path("what to respond with, as in 'the loan'")
        message = ""
        token = cursor.peek()
        if token is not None and token.kind == "string":
            message = cursor.next().value
        cursor.expect_end()
        return trusted[RespondStep](
            status=status, body=body, message=message, range=cursor.range(start)
        )
