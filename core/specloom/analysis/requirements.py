"""Phase 2: every requirement gets a stable ID and a class.

Explicit IDs (F1, R2) are the spec's own. Derived IDs name what the requirement
is about (`Book.isbn.unique`, `GET /books`, `R-3f2a1c` from a rule's words),
never its position, so editing one part of a spec leaves the others' IDs alone.
"""

from __future__ import annotations

import hashlib

from specloom.ir.application import ApplicationIR
from specloom.ir.common import SourceRange
from specloom.ir.domain import Field
from specloom.ir.validation import Requirement
from specloom.spec.diagnostics import DiagnosticSink


def derived_rule_id(text: str) -> str:
    normalized = " ".join(text.lower().split()).rstrip(".")
    return "R-" + hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:6]


def field_requirements(entity: str, field: Field) -> list[tuple[str, str]]:
    """(ID suffix, text) of each constraint of a field."""
    items: list[tuple[str, str]] = []
    if field.required:
        items.append(("required", "is required"))
    if field.unique:
        items.append(("unique", "is unique"))
    if field.unique_with:
        items.append(("unique_with", "is unique together with " + ", ".join(field.unique_with)))
    if field.min_length is not None:
        items.append(("min_length", f"is at least {field.min_length} characters long"))
    if field.max_length is not None:
        items.append(("max_length", f"is at most {field.max_length} characters long"))
    if field.pattern:
        items.append(("pattern", f"matches `{field.pattern}`"))
    for bound in field.bounds:
        operand = bound.value.text if bound.value is not None else bound.field or bound.clock
        name = "min" if bound.op in (">", ">=") else "max"
        items.append((name, f"is {bound.op} {operand}"))
    if field.default is not None:
        items.append(("default", "has a default"))
    if field.read_only:
        items.append(("read_only", "is read-only"))
    if field.set_on_create:
        items.append(("set_on_create", "is set when the record is created"))
    if field.set_on_update:
        items.append(("set_on_update", "is set when the record is updated"))
    if field.type.kind in ("reference", "enum", "decimal", "email", "url", "uuid", "date"):
        items.append(("type", f"is {field.type.describe()}"))
    return items


def build_requirements(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    requirements: list[Requirement] = []
    groups: dict[str, Requirement] = {}
    for endpoint in ir.api.endpoints:
        group = endpoint.crud_group or endpoint.id
        kind = "flow" if endpoint.flow else "endpoint"
        if group in groups:
            if endpoint.crud_group is None:
                first = groups[group].range.start.line + 1
                sink.add(
                    "SL107",
                    f"the ID {group} is already used on line {first}: give each endpoint its "
                    "own ID",
                    endpoint.range,
                )
                continue
            groups[group].subjects.append(endpoint.id)
            continue
        text = f"{endpoint.method} {endpoint.path}" + (
            f": {endpoint.summary}" if endpoint.summary else ""
        )
        if endpoint.crud_group:
            text = f"CRUD {endpoint.path}"
        requirement = Requirement(
            id=group,
            explicit=endpoint.explicit_id,
            kind=kind,
            category="functional",
            text=text,
            subjects=[endpoint.id],
            range=endpoint.range,
        )
        groups[group] = requirement
        requirements.append(requirement)
    for rule in ir.behaviour.rules:
        if not rule.id:
            rule.id = derived_rule_id(rule.text)
        requirements.append(
            Requirement(
                id=rule.id,
                explicit=rule.explicit_id,
                kind="rule",
                category="business_rule",
                text=rule.text,
                subjects=[rule.body.entity if rule.body.kind != "cardinality" else rule.body.owner],
                range=rule.range,
            )
        )
    for entity in ir.domain.entities:
        for field in entity.fields:
            field.requirement_ids = []
            for suffix, text in field_requirements(entity.name, field):
                requirement_id = f"{entity.name}.{field.name}.{suffix}"
                if suffix in ("min", "max") and requirement_id in field.requirement_ids:
                    continue
                field.requirement_ids.append(requirement_id)
                requirements.append(
                    Requirement(
                        id=requirement_id,
                        explicit=False,
                        kind="constraint",
                        category="data_integrity",
                        text=f"{entity.name}.{field.name} {text}",
                        subjects=[f"{entity.name}.{field.name}"],
                        range=field.range,
                    )
                )
        for together in entity.unique_together:
            together.requirement_id = f"{entity.name}.unique({','.join(together.fields)})"
            requirements.append(
                Requirement(
                    id=together.requirement_id,
                    explicit=False,
                    kind="constraint",
                    category="data_integrity",
                    text=f"{', '.join(together.fields)} are unique together",
                    subjects=[f"{entity.name}.{name}" for name in together.fields],
                    range=together.range,
                )
            )
    for mapping in ir.validation.error_policy.mappings:
        requirements.append(
            Requirement(
                id=f"errors.{mapping.kind}",
                explicit=False,
                kind="error_policy",
                category="error_handling",
                text=mapping.text,
                subjects=[mapping.kind],
                range=mapping.range,
            )
        )
    report_duplicates(requirements, sink)
    ir.validation.requirements = requirements


def report_duplicates(requirements: list[Requirement], sink: DiagnosticSink) -> None:
    first: dict[str, SourceRange] = {}
    for requirement in requirements:
        if requirement.id in first:
            line = first[requirement.id].start.line + 1
            sink.add(
                "SL107",
                f"the ID {requirement.id} is already used on line {line}: give each "
                "requirement its own ID",
                requirement.range,
            )
        else:
            first[requirement.id] = requirement.range
