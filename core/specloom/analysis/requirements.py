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
from specloom.ir.trusted import trusted
from specloom.ir.validation import Requirement
from specloom.spec.diagnostics import DiagnosticSink


def derived_rule_id(text: str) -> str:
    normalized = " ".join(text.lower().split()).rstrip(".")
    return "R-" + hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:6]


def field_requirements(entity: str, field: Field) -> list[tuple[str, str]]:
    """(ID suffix, text) of each constraint of a field."""
    # The field's values, read from its __dict__: every attribute read on a pydantic model
    # goes through a slow hook, and this runs for every field of the spec.
    values = field.__dict__
    items: list[tuple[str, str]] = []
    if values["required"]:
        items.append(("required", "is required"))
    if values["unique"]:
        items.append(("unique", "is unique"))
    if values["unique_with"]:
        items.append(("unique_with", "is unique together with " + ", ".join(values["unique_with"])))
    if values["min_length"] is not None:
        items.append(("min_length", f"is at least {values['min_length']} characters long"))
    if values["max_length"] is not None:
        items.append(("max_length", f"is at most {values['max_length']} characters long"))
    if values["pattern"]:
        items.append(("pattern", f"matches `{values['pattern']}`"))
    for bound in values["bounds"]:
        operand = bound.value.text if bound.value is not None else bound.field or bound.clock
        name = "min" if bound.op in (">", ">=") else "max"
        items.append((name, f"is {bound.op} {operand}"))
    if values["default"] is not None:
        items.append(("default", "has a default"))
    if values["read_only"]:
        items.append(("read_only", "is read-only"))
    if values["set_on_create"]:
        items.append(("set_on_create", "is set when the record is created"))
    if values["set_on_update"]:
        items.append(("set_on_update", "is set when the record is updated"))
    field_type = values["type"]
    if field_type.kind in ("reference", "enum", "decimal", "email", "url", "uuid", "date"):
        items.append(("type", f"is {field_type.describe()}"))
    return items


def build_requirements(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    new_requirement = trusted[Requirement]  # thousands of them in a large spec
    requirements: list[Requirement] = []
    groups: dict[str, Requirement] = {}
    for endpoint in ir.api.endpoints:
        values = endpoint.__dict__  # one attribute read, not eight (see field_requirements)
        crud_group = values["crud_group"]
        group = crud_group or values["id"]
        if group in groups:
            if crud_group is None:
                first = groups[group].range.start.line + 1
                sink.add(
                    "SL107",
                    f"the ID {group} is already used on line {first}: give each endpoint its "
                    "own ID",
                    values["range"],
                )
                continue
            groups[group].subjects.append(values["id"])
            continue
        kind = "flow" if values["flow"] else "endpoint"
        if crud_group:
            text = f"CRUD {values['path']}"
        else:
            summary = values["summary"]
            text = f"{values['method']} {values['path']}" + (f": {summary}" if summary else "")
        requirement = new_requirement(
            id=group,
            explicit=values["explicit_id"],
            kind=kind,
            category="functional",
            text=text,
            subjects=[values["id"]],
            range=values["range"],
        )
        groups[group] = requirement
        requirements.append(requirement)
    for rule in ir.behaviour.rules:
        if not rule.id:
            rule.id = derived_rule_id(rule.text)
        body = rule.body
        requirements.append(
            new_requirement(
                id=rule.id,
                explicit=rule.explicit_id,
                kind="rule",
                category="business_rule",
                text=rule.text,
                subjects=[body.entity if body.kind != "cardinality" else body.owner],
                range=rule.range,
            )
        )
    for entity in ir.domain.entities:
        entity_name = entity.name
        for field in entity.fields:
            values = field.__dict__
            label = f"{entity_name}.{values['name']}"
            ids: list[str] = []
            # `field.requirement_ids = ids`, as pydantic sets a field, without its hook
            values["requirement_ids"] = ids
            field.__pydantic_fields_set__.add("requirement_ids")
            where = values["range"]
            for suffix, text in field_requirements(entity_name, field):
                requirement_id = f"{label}.{suffix}"
                if suffix in ("min", "max") and requirement_id in ids:
                    continue
                ids.append(requirement_id)
                requirements.append(
                    new_requirement(
                        id=requirement_id,
                        explicit=False,
                        kind="constraint",
                        category="data_integrity",
                        text=f"{label} {text}",
                        subjects=[label],
                        range=where,
                    )
                )
        for together in entity.unique_together:
            together.requirement_id = f"{entity_name}.unique({','.join(together.fields)})"
            requirements.append(
                new_requirement(
                    id=together.requirement_id,
                    explicit=False,
                    kind="constraint",
                    category="data_integrity",
                    text=f"{', '.join(together.fields)} are unique together",
                    subjects=[f"{entity_name}.{name}" for name in together.fields],
                    range=together.range,
                )
            )
    for mapping in ir.validation.error_policy.mappings:
        requirements.append(
            new_requirement(
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
        values = requirement.__dict__  # one attribute read, not two
        requirement_id = values["id"]
        if requirement_id in first:
            line = first[requirement_id].start.line + 1
            sink.add(
                "SL107",
                f"the ID {requirement_id} is already used on line {line}: give each "
                "requirement its own ID",
                values["range"],
            )
        else:
            first[requirement_id] = values["range"]
