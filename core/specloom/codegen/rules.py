"""Emitter of the rules: `app/rules/<entity>.py` holds one check per rule on that
entity, and `app/rules/__init__.py` runs them on every write (`commit`)."""

from __future__ import annotations

from string import Template

from specloom.analysis.rules import rule_scope
from specloom.codegen import messages
from specloom.codegen.fieldtypes import is_nullable
from specloom.codegen.flowcode import NEGATED, ExprWriter, python_filter, sql_filter
from specloom.codegen.pycode import Imports, Part, docstring, module_text, py_string
from specloom.codegen.templates import template
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    CardinalityRule,
    CompareRule,
    Comparison,
    Filter,
    LiteralExpr,
    NoOverlapRule,
    Rule,
)
from specloom.ir.domain import Entity
from specloom.plan import naming
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.names import snake


def rule_function(rule: Rule) -> str:
    return naming.rule_symbol(rule).rsplit(".", 1)[1]


def render_rules(ir: ApplicationIR, entity: str, rules: list[tuple[Rule, list[str]]]) -> str:
    """The rules module of `entity`: one check per (rule, requirement IDs)."""
    return assemble_rules(entity, [render_rule_part(ir, rule, ids) for rule, ids in rules])


def render_rule_part(ir: ApplicationIR, rule: Rule, requirement_ids: list[str]) -> Part:
    """One rule's check and the imports it needs."""
    imports = Imports()
    return _check(ir, rule, requirement_ids, imports), imports


def assemble_rules(entity: str, parts: list[Part]) -> str:
    imports = Imports()
    imports.add("sqlalchemy.orm", "Session")
    imports.add("app.errors", "AppError")
    imports.add(naming.model_module(entity), entity)
    for _, needed in parts:
        imports.merge(needed)
    return module_text(
        f"The rules on {entity} records.",
        imports,
        [code for code, _ in parts],
        own_module=naming.rules_module(entity),
    )


def _check(ir: ApplicationIR, rule: Rule, requirement_ids: list[str], imports: Imports) -> str:
    body = rule.body
    entity = ir.domain.entity(body.entity)
    assert entity is not None
    lines = [
        f"def {rule_function(rule)}(session: Session, record: {entity.name}) -> None:",
        docstring(rule.text, requirement_ids).rstrip("\n"),
    ]
    refusal = f"raise AppError({rule.status}, {py_string(messages.rule_message(rule))})"
    if isinstance(body, CompareRule):
        lines += _compare(ir, entity, body, refusal, imports)
    elif isinstance(body, NoOverlapRule):
        lines += _no_overlap(ir, entity, body, refusal, imports)
    else:
        lines += _cardinality(ir, entity, body, refusal, imports)
    return "\n".join(lines)


def _writer(ir: ApplicationIR, entity: Entity, owner: str, imports: Imports) -> ExprWriter:
    writer = ExprWriter(ir, imports, rule_scope(ir, entity, DiagnosticSink()), owner)
    for field in entity.fields:
        writer.names.bind(field.name, f"record.{field.name}")
        writer.nullable_names[field.name] = is_nullable(field) and field.is_stored
    writer.names.bind("self", "record")
    writer.names.bind("id", "record.id")
    return writer


def _compare(
    ir: ApplicationIR, entity: Entity, body: CompareRule, refusal: str, imports: Imports
) -> list[str]:
    """A comparison with a missing value holds: rules constrain values that are there."""
    writer = _writer(ir, entity, "rule", imports)
    flipped = Comparison(op=NEGATED[body.op], left=body.left, right=body.right)
    broken = writer.comparison(flipped, writer.names, writer.scope)
    missing = [
        writer.expr(side, writer.names, writer.scope)
        for side in (body.left, body.right)
        if writer.nullable(side, writer.scope)
    ]
    present = " and ".join(f"{code} is not None" for code in missing)
    if present and not broken.startswith(present):
        broken = f"{present} and {broken}"
    lines = [f"    if {broken}:", f"        {refusal}"]
    return _clock(writer) + lines


def _clock(writer: ExprWriter) -> list[str]:
    lines = []
    if writer.uses_now or writer.uses_today:
        writer.imports.add("app.database", "utcnow")
        lines.append("    now = utcnow()")
        if writer.uses_today:
            lines.append("    today = now.date()")
    return lines


def _filters(
    writer: ExprWriter, entity: Entity, filters: list[Filter]
) -> tuple[list[str], list[str]]:
    """The filters as SQL conditions on the model, and as a test of the record itself."""
    columns: list[str] = []
    own: list[str] = []
    for item in filters:
        field = entity.field(item.field)
        column = field.json_name if field else item.field
        value = writer.expr(item.value, writer.names, writer.scope)
        boolean = isinstance(item.value, LiteralExpr) and item.value.value.kind == "boolean"
        columns.append(sql_filter(f"{entity.name}.{column}", item.op, value, boolean))
        own.append(python_filter(f"record.{column}", item.op, value, boolean))
    return columns, own


def _no_overlap(
    ir: ApplicationIR, entity: Entity, body: NoOverlapRule, refusal: str, imports: Imports
) -> list[str]:
    """Half-open ranges [start, end) of records sharing the key never overlap."""
    imports.add("sqlalchemy", "select")
    writer = _writer(ir, entity, "rule", imports)
    name = entity.name
    columns, own = _filters(writer, entity, body.filters)
    keys = [(entity.field(k).json_name if entity.field(k) else k) for k in body.key]  # type: ignore[union-attr]
    conditions = [f"{name}.id != record.id"]
    conditions += [f"{name}.{key} == record.{key}" for key in keys]
    conditions += [
        f"{name}.{body.start} < record.{body.end}",
        f"{name}.{body.end} > record.{body.start}",
    ]
    conditions += columns
    present = [f"record.{body.start} is not None", f"record.{body.end} is not None", *own]
    lines = _clock(writer)
    lines += [f"    if not ({' and '.join(present)}):", "        return"]
    lines += ["    clash = session.scalar(", f"        select({name}.id)"]
    lines += [f"        .where({', '.join(conditions)})", "        .limit(1)", "    )"]
    lines += ["    if clash is not None:", f"        {refusal}"]
    return lines


def _cardinality(
    ir: ApplicationIR, entity: Entity, body: CardinalityRule, refusal: str, imports: Imports
) -> list[str]:
    """At most `maximum` records of the entity per owner, among those the filters keep."""
    imports.add("sqlalchemy", "func", "select")
    writer = _writer(ir, entity, "rule", imports)
    name = entity.name
    via = entity.field(body.via)
    column = via.json_name if via else f"{body.via}_id"
    columns, own = _filters(writer, entity, body.filters)
    conditions = [f"{name}.{column} == record.{column}", *columns]
    lines = _clock(writer)
    kept = " and ".join([f"record.{column} is not None", *own])
    lines += [f"    if not ({kept}):", "        return"]
    lines += [
        "    count = session.scalar(",
        f"        select(func.count()).select_from({name}).where({', '.join(conditions)})",
        "    )",
        f"    if (count or 0) > {body.maximum}:",
        f"        {refusal}",
    ]
    return lines


def render_rules_package(ir: ApplicationIR) -> str:
    """`app/rules/__init__.py`: `commit` and the checks of each entity: the bounds between
    its fields, then its rules."""
    from specloom.codegen.repositories import relative_bounds

    checks: dict[str, list[str]] = {}
    import_lines = []
    for entity in ir.domain.entities:
        if relative_bounds(entity):
            alias = f"check_{snake(entity.name)}_bounds"
            module = naming.repository_module(entity.name)
            import_lines.append(f"from {module} import check_bounds as {alias}")
            checks.setdefault(entity.name, []).append(alias)
    by_entity: dict[str, list[Rule]] = {}
    for rule in ir.behaviour.rules:
        by_entity.setdefault(rule.body.entity, []).append(rule)
    for entity_name, rules in by_entity.items():
        functions = [rule_function(rule) for rule in rules]
        import_lines.append(
            f"from {naming.rules_module(entity_name)} import {', '.join(sorted(set(functions)))}"
        )
        checks.setdefault(entity_name, []).extend(functions)
    check_lines = [
        f"    {py_string(name)}: [{', '.join(functions)}]," for name, functions in checks.items()
    ]
    return Template(template("rules_package.py")).substitute(
        imports="\n".join(import_lines), checks="\n".join(check_lines)
    )
