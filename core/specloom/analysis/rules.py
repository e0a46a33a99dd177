"""Phase 2 for rules: names and types, and the fields an overlap or a count works on."""

from __future__ import annotations

from specloom.analysis.scope import Scope, Type, type_of_field
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import CardinalityRule, CompareRule, NoOverlapRule, PathExpr, Rule
from specloom.ir.domain import TEMPORAL_KINDS, Entity
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.names import did_you_mean

_RANGE_NAMES = (
    ("starts_at", "ends_at"),
    ("start_at", "end_at"),
    ("begins_at", "ends_at"),
    ("start", "end"),
    ("starts_on", "ends_on"),
    ("start_date", "end_date"),
    ("start_time", "end_time"),
    ("from", "to"),
    ("check_in", "check_out"),
    ("valid_from", "valid_until"),
)


def rule_scope(ir: ApplicationIR, entity: Entity, sink: DiagnosticSink) -> Scope:
    """Inside a rule, the entity's fields are names, and `self` is the record itself."""
    scope = Scope(ir, sink, unknown_name_code="SL503", owner=entity.name)
    for field in entity.fields:
        scope.bind(field.name, type_of_field(field))
    scope.bind("self", Type("record", entity.name))
    scope.bind("id", Type("integer"))
    return scope


def check_rules(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    for rule in ir.behaviour.rules:
        body = rule.body
        if isinstance(body, CompareRule):
            check_compare(ir, body, sink)
        elif isinstance(body, NoOverlapRule):
            check_overlap(ir, rule, body, sink)
        else:
            check_cardinality(ir, body, sink)


def check_compare(ir: ApplicationIR, rule: CompareRule, sink: DiagnosticSink) -> None:
    entity = ir.domain.entity(rule.entity)
    if entity is None:
        return
    scope = rule_scope(ir, entity, sink)
    left = scope.type_of(rule.left)
    right = scope.type_of(rule.right)
    if left is None or right is None:
        return
    if rule.op not in ("=", "!=") and left.kind not in ("integer", "decimal", *TEMPORAL_KINDS):
        sink.add(
            "SL407",
            f"'{rule.left}' is {left.describe()} and has no order: use 'is' or 'is not'",
            rule.range,
        )
        return
    scope.check_compatible(left, right, rule.range, rule.left)


def check_overlap(ir: ApplicationIR, rule: Rule, body: NoOverlapRule, sink: DiagnosticSink) -> None:
    entity = ir.domain.entity(body.entity)
    if entity is None:
        return
    names = [f.name for f in entity.fields]
    for key in body.key:
        if entity.field(key) is None:
            sink.add(
                "SL503",
                f"{entity.name} has no field '{key}' to group by{did_you_mean(key, names)}",
                body.range,
            )
    rule_scope(ir, entity, sink).check_filters(body.filters, entity.name)
    if not body.start:
        found = infer_range(ir, entity)
        if found is None:
            sink.add(
                "SL504",
                f"cannot tell which fields of {entity.name} hold the time range: add "
                "'from <start field> to <end field>' after 'never overlap'",
                body.range,
            )
            return
        body.start, body.end = found
    temporal = [f.name for f in entity.fields if f.type.kind in TEMPORAL_KINDS]
    for name in (body.start, body.end):
        field = entity.field(name)
        if field is None or field.type.kind not in TEMPORAL_KINDS:
            sink.add(
                "SL504",
                f"'{name}' is not a date or datetime field of {entity.name}"
                f"{did_you_mean(name, temporal)}; a time range runs between two of: "
                f"{', '.join(temporal) or 'none (add them)'}",
                body.range,
            )


def infer_range(ir: ApplicationIR, entity: Entity) -> tuple[str, str] | None:
    """Start and end of a record's time range: from a rule 'end is after start', a
    field bound 'after start', or the usual names."""
    temporal = {f.name for f in entity.fields if f.type.kind in TEMPORAL_KINDS}
    for rule in ir.behaviour.rules:
        body = rule.body
        if not isinstance(body, CompareRule) or body.entity != entity.name:
            continue
        left, right = body.left, body.right
        if not (isinstance(left, PathExpr) and isinstance(right, PathExpr)):
            continue
        if len(left.parts) == 1 and len(right.parts) == 1:
            a, b = left.parts[0], right.parts[0]
            if a in temporal and b in temporal:
                if body.op in (">", ">="):
                    return b, a
                if body.op in ("<", "<="):
                    return a, b
    for field in entity.fields:
        for bound in field.bounds:
            if bound.field in temporal and field.name in temporal:
                if bound.op in (">", ">="):
                    return bound.field, field.name
                return field.name, bound.field
    for start, end in _RANGE_NAMES:
        if start in temporal and end in temporal:
            return start, end
    return None


def check_cardinality(ir: ApplicationIR, body: CardinalityRule, sink: DiagnosticSink) -> None:
    entity = ir.domain.entity(body.entity)
    if entity is None:
        return
    links = [
        f.name for f in entity.fields if f.type.kind == "reference" and f.type.entity == body.owner
    ]
    if len(links) != 1:
        sink.add(
            "SL503",
            f"{entity.name} has {'no reference' if not links else 'several references'} to "
            f"{body.owner}: a count of {entity.name} records per {body.owner} needs exactly one",
            body.range,
        )
        return
    body.via = links[0]
    scope = rule_scope(ir, entity, sink)
    scope.check_filters(body.filters, entity.name)
