"""Reading the compiled model for editor features: block ranges, descriptions of
fields, steps and conditions, and the element under a position.

It imports the IR, so features import it inside their handlers, never at module level
(the server imports it right after the initialize reply: `WARM_UP` in server.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    BoolOp,
    Comparison,
    CreateStep,
    DeleteStep,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    IsGiven,
    NotCondition,
    RespondStep,
    Rule,
    SetFromInput,
    SetStep,
    walk_steps,
)
from specloom.ir.common import Position, SourceRange
from specloom.ir.domain import Entity, Field


def entity_block(entity: Entity) -> SourceRange:
    """From the entity's heading to its last field line."""
    end = entity.range.end
    for item in [*entity.fields, *entity.unique_together]:
        if (item.range.end.line, item.range.end.column) > (end.line, end.column):
            end = item.range.end
    return SourceRange(Position(entity.range.start.line, 0), end)


def flow_block(flow: Flow) -> SourceRange:
    """From the flow's heading to its last input or step line."""
    end = flow.range.end
    for item in [*flow.inputs, *walk_steps(flow.steps)]:
        if (item.range.end.line, item.range.end.column) > (end.line, end.column):
            end = item.range.end
    return SourceRange(Position(flow.range.start.line, 0), end)


def constraints(field: Field) -> list[str]:
    out: list[str] = []
    if field.required:
        out.append("required")
    if field.optional:
        out.append("optional")
    if field.unique:
        out.append("unique")
    if field.unique_with:
        out.append("unique together with " + ", ".join(field.unique_with))
    if field.read_only:
        out.append("read-only")
    if field.set_on_create:
        out.append("set on create")
    if field.set_on_update:
        out.append("set on update")
    if field.min_length is not None:
        out.append(f"min length {field.min_length}")
    if field.max_length is not None:
        out.append(f"max length {field.max_length}")
    if field.pattern is not None:
        out.append(f"pattern `{field.pattern}`")
    for bound in field.bounds:
        operand = bound.value if bound.value is not None else (bound.field or bound.clock)
        out.append(f"{bound.op} {operand}")
    if field.default is not None:
        default = field.default
        value = default.value if default.value is not None else (default.field or default.kind)
        out.append(f"default {value}")
    return out


def condition_text(condition: Any) -> str:
    if isinstance(condition, Comparison):
        return f"{condition.left} {condition.op} {condition.right}"
    if isinstance(condition, IsGiven):
        return f"{condition.input} is {'not ' if condition.negated else ''}given"
    if isinstance(condition, BoolOp):
        return f" {condition.op} ".join(condition_text(c) for c in condition.operands)
    if isinstance(condition, NotCondition):
        return f"not ({condition_text(condition.operand)})"
    return str(condition)


def step_text(step: Any) -> str:
    if isinstance(step, Guard):
        message = f' "{step.message}"' if step.message else ""
        return f"require {condition_text(step.condition)}, else {step.status}{message}"
    if isinstance(step, SetStep):
        return "set " + ", ".join(f"{a.target} to {a.value}" for a in step.assignments)
    if isinstance(step, SetFromInput):
        where = ", where given" if step.only_given else ""
        return "set " + ", ".join(str(t) for t in step.targets) + " from the input" + where
    if isinstance(step, AdjustStep):
        return f"{step.direction} {step.target} by {step.amount}"
    if isinstance(step, CreateStep):
        fields = ", ".join(f.field for f in step.fields)
        return f"create a {step.entity}" + (f" with {fields}" if fields else "")
    if isinstance(step, FindStep):
        return f"find the {step.query.entity} as {step.variable}"
    if isinstance(step, DeleteStep):
        return f"delete {'every ' if step.every else ''}{step.target}"
    if isinstance(step, ForEachStep):
        source = (
            step.collection if step.collection is not None else step.query and step.query.entity
        )
        return f"for each {step.variable} in {source} ({len(step.steps)} steps)"
    if isinstance(step, IfStep):
        return f"if {condition_text(step.condition)} ({len(step.then)} steps)"
    if isinstance(step, RespondStep):
        body = f" with {step.body}" if step.body is not None else ""
        return f"respond {step.status}{body}"
    return str(getattr(step, "kind", "step"))


@dataclass(slots=True)
class Found:
    """The element of the model at a position."""

    kind: str  # entity, field, endpoint, flow, rule
    range: SourceRange
    entity: Entity | None = None
    field: Field | None = None
    endpoints: list[Endpoint] | None = None
    flow: Flow | None = None
    rule: Rule | None = None


def _inside(range_: SourceRange, line: int, column: int) -> bool:
    inside: bool = range_.contains(line, column)
    return inside


def element_at(ir: ApplicationIR, line: int, column: int) -> Found | None:
    for entity in ir.domain.entities:
        if entity.range.start.line == line:
            return Found("entity", entity.range, entity=entity)
        for field in entity.fields:
            if _inside(field.range, line, column):
                return Found("field", field.range, entity=entity, field=field)
    endpoints = [e for e in ir.api.endpoints if _inside(e.range, line, column)]
    if endpoints:
        return Found("endpoint", endpoints[0].range, endpoints=endpoints)
    for flow in ir.behaviour.flows:
        block = flow_block(flow)
        if flow.range.start.line == line or _inside(block, line, column):
            return Found("flow", flow.range if flow.range.start.line == line else block, flow=flow)
    for rule in ir.behaviour.rules:
        if _inside(rule.range, line, column):
            return Found("rule", rule.range, rule=rule)
    return None


def flow_endpoint(ir: ApplicationIR, flow: Flow) -> Endpoint | None:
    for endpoint in ir.api.endpoints:
        if endpoint.flow == flow.id or (flow.endpoint and endpoint.id == flow.endpoint):
            return endpoint
    return None
