"""The behaviour part of the IR: expressions, conditions, flow steps, flows and rules.

Expressions and steps are tagged unions (`kind`), so the IR serializes to JSON
and back without losing which variant a node is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field as PydanticField

from specloom.ir.common import Node, Value

# --- expressions -----------------------------------------------------------


class PathExpr(Node):
    """A name, or a dotted walk through references: `loan.book.available_copies`."""

    kind: Literal["path"] = "path"
    parts: list[str]

    def __str__(self) -> str:
        return ".".join(self.parts)


class LiteralExpr(Node):
    """A number, string, boolean or enum state written in the spec."""

    kind: Literal["literal"] = "literal"
    value: Value

    def __str__(self) -> str:
        return str(self.value)


class ClockExpr(Node):
    """`now` (a UTC datetime) or `today` (a date), read once per flow run."""

    kind: Literal["clock"] = "clock"
    clock: Literal["now", "today"]

    def __str__(self) -> str:
        return self.clock


class BinaryExpr(Node):
    """Arithmetic: `entry.hours * entry.consultant.hourly_rate`."""

    kind: Literal["binary"] = "binary"
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


class NegateExpr(Node):
    kind: Literal["negate"] = "negate"
    operand: Expr

    def __str__(self) -> str:
        return f"-{self.operand}"


class Filter(Node):
    """`status DRAFT`, `billed false`, `status = DRAFT`: a field compared with a value."""

    field: str
    op: Literal["=", "!=", "<", "<=", ">", ">="] = "="
    value: Expr


class AggregateExpr(Node):
    """`count of project.invoices with status DRAFT`, `sum of line.amount over invoice.lines`.

    `variable` names one record of `collection` inside `value` (for sum, min, max).
    """

    kind: Literal["aggregate"] = "aggregate"
    function: Literal["count", "sum", "min", "max", "average"]
    collection: PathExpr
    variable: str | None = None
    value: Expr | None = None
    filters: list[Filter] = PydanticField(default_factory=list)

    def __str__(self) -> str:
        if self.function == "count":
            return f"count of {self.collection}"
        return f"{self.function} of {self.value} over {self.collection}"


Expr = Annotated[
    PathExpr | LiteralExpr | ClockExpr | BinaryExpr | NegateExpr | AggregateExpr,
    PydanticField(discriminator="kind"),
]

# --- conditions ------------------------------------------------------------

CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]


class Comparison(Node):
    """`member.open_loans < 3`, `member.status is ACTIVE`, `due_on is after today`."""

    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: Expr
    right: Expr


class IsGiven(Node):
    """`total_copies is given`: an optional input was sent by the client."""

    kind: Literal["given"] = "given"
    input: str
    negated: bool = False


class BoolOp(Node):
    kind: Literal["bool"] = "bool"
    op: Literal["and", "or"]
    operands: list[Condition]


class NotCondition(Node):
    kind: Literal["not"] = "not"
    operand: Condition


Condition = Annotated[
    Comparison | IsGiven | BoolOp | NotCondition,
    PydanticField(discriminator="kind"),
]

# --- flow steps ------------------------------------------------------------


class Guard(Node):
    """`Require <condition>, else <status> "<message>"`."""

    kind: Literal["guard"] = "guard"
    condition: Condition
    status: int
    message: str = ""


class Assignment(Node):
    target: PathExpr
    value: Expr


class SetStep(Node):
    """`Set loan.status to RETURNED and loan.returned_at to now`."""

    kind: Literal["set"] = "set"
    assignments: list[Assignment]


class SetFromInput(Node):
    """`Set book.title, book.author from the input, where given`."""

    kind: Literal["set_from_input"] = "set_from_input"
    targets: list[PathExpr]
    only_given: bool = False


class AdjustStep(Node):
    """`Increase book.available_copies by 1` (a negative `by` for decrease is not used)."""

    kind: Literal["adjust"] = "adjust"
    direction: Literal["increase", "decrease"]
    target: PathExpr
    amount: Expr


class FieldValue(Node):
    """One field of a created record: `book` (from the name in scope), `amount = <expr>`,
    or `price from product` (a snapshot copied from another record)."""

    field: str
    value: Expr


class CreateStep(Node):
    """`Create a Loan with book, member and due_on`; binds `variable` to the new record."""

    kind: Literal["create"] = "create"
    entity: str
    variable: str
    fields: list[FieldValue] = PydanticField(default_factory=list)


class RecordQuery(Node):
    """`the TimeEntry records of project with billed false`: records of `entity` whose
    reference `via` points at `owner`, filtered."""

    entity: str
    owner: PathExpr | None = None
    via: str | None = None
    filters: list[Filter] = PydanticField(default_factory=list)


class FindStep(Node):
    """`Find the Invoice of project with status DRAFT; if found, use it.` followed by
    `Otherwise create ...` (find-or-create) or `Otherwise respond 404 "..."`."""

    kind: Literal["find"] = "find"
    variable: str
    query: RecordQuery
    otherwise: list[Step] = PydanticField(default_factory=list)


class DeleteStep(Node):
    """`Delete the task` or `Delete every line of invoice` (a collection)."""

    kind: Literal["delete"] = "delete"
    target: PathExpr
    every: bool = False


class ForEachStep(Node):
    """`For each line in invoice.lines:` with nested steps; `filters` keep some records
    of the collection (`For each ticket in event.tickets with status VALID:`)."""

    kind: Literal["for_each"] = "for_each"
    variable: str
    collection: PathExpr | None = None
    query: RecordQuery | None = None
    filters: list[Filter] = PydanticField(default_factory=list)
    steps: list[Step] = PydanticField(default_factory=list)


class IfStep(Node):
    """`If <condition>:` nested steps, and `Otherwise:` nested steps."""

    kind: Literal["if"] = "if"
    condition: Condition
    then: list[Step] = PydanticField(default_factory=list)
    otherwise: list[Step] = PydanticField(default_factory=list)


class RespondStep(Node):
    """`Respond 201 with the loan`; `body` is None for a response without a body, and an
    error status may carry a message: `Respond 404 "no draft invoice"`."""

    kind: Literal["respond"] = "respond"
    status: int
    body: PathExpr | None = None
    message: str = ""


Step = Annotated[
    Guard
    | SetStep
    | SetFromInput
    | AdjustStep
    | CreateStep
    | FindStep
    | DeleteStep
    | ForEachStep
    | IfStep
    | RespondStep,
    PydanticField(discriminator="kind"),
]


class FlowInput(Node):
    """A value the client sends. `field` and `entity` say which field its type comes from;
    a `<name>_id` input that names a reference loads that record as `<name>`."""

    name: str
    optional: bool = False
    entity: str | None = None
    field: str | None = None
    reference: str | None = None
    explicit_type: str | None = None


class Flow(Node):
    """The behaviour of one endpoint, run in one transaction."""

    id: str
    explicit_id: bool = True
    name: str
    endpoint: str | None = None
    inputs: list[FlowInput] = PydanticField(default_factory=list)
    steps: list[Step] = PydanticField(default_factory=list)


def walk_steps(steps: list[Step]) -> Iterator[Step]:
    """Every step, nested ones included, in order."""
    for step in steps:
        yield step
        if type(step) in _FLAT_STEPS:
            # no nested steps, told without the isinstance checks below, which are slow
            # on pydantic classes when they fail
            continue
        if isinstance(step, ForEachStep):
            yield from walk_steps(step.steps)
        elif isinstance(step, IfStep):
            yield from walk_steps(step.then)
            yield from walk_steps(step.otherwise)
        elif isinstance(step, FindStep):
            yield from walk_steps(step.otherwise)


_FLAT_STEPS: frozenset[type] = frozenset(
    {Guard, SetStep, SetFromInput, AdjustStep, CreateStep, DeleteStep, RespondStep}
)

# --- rules -----------------------------------------------------------------


class CompareRule(Node):
    """`A book's available_copies never exceeds its total_copies`: checked on every write."""

    kind: Literal["compare"] = "compare"
    entity: str
    op: CompareOp
    left: Expr
    right: Expr


class NoOverlapRule(Node):
    """`Two time entries of the same consultant never overlap`: half-open ranges
    [start, end) of records sharing `key` are disjoint; `filters` limit the records
    the rule holds for (`... of the same room with status BOOKED never overlap`)."""

    kind: Literal["no_overlap"] = "no_overlap"
    entity: str
    key: list[str]
    start: str
    end: str
    filters: list[Filter] = PydanticField(default_factory=list)


class CardinalityRule(Node):
    """`A project has at most one Invoice with status DRAFT`."""

    kind: Literal["cardinality"] = "cardinality"
    owner: str
    entity: str
    via: str
    maximum: int
    filters: list[Filter] = PydanticField(default_factory=list)


RuleBody = Annotated[
    CompareRule | NoOverlapRule | CardinalityRule,
    PydanticField(discriminator="kind"),
]


class Rule(Node):
    """An invariant checked on every write of the records it names."""

    id: str
    explicit_id: bool = True
    text: str
    body: RuleBody
    status: int = 422
    status_explicit: bool = False
    message: str = ""


class BehaviourModel(Node):
    flows: list[Flow] = PydanticField(default_factory=list)
    rules: list[Rule] = PydanticField(default_factory=list)

    def flow(self, flow_id: str) -> Flow | None:
        for candidate in self.flows:
            if candidate.id == flow_id:
                return candidate
        return None


for _model in (
    BinaryExpr,
    NegateExpr,
    Filter,
    AggregateExpr,
    Comparison,
    BoolOp,
    NotCondition,
    Guard,
    Assignment,
    FindStep,
    ForEachStep,
    IfStep,
    RecordQuery,
    FieldValue,
    AdjustStep,
    CompareRule,
    CardinalityRule,
    NoOverlapRule,
):
    _model.model_rebuild()
