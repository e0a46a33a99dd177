"""Emitter of the flows: `app/services/<flow>.py` holds the flow's input schema and one
function that runs every step of the flow in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass

from specloom.codegen.fieldtypes import scalar_schema_type
from specloom.codegen.flowcode import FlowWriter, Reply, variable
from specloom.codegen.pycode import Imports, docstring, module_text
from specloom.codegen.schemas import constraint_arguments
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow, FlowInput
from specloom.ir.domain import Field, FieldType
from specloom.plan import naming
from specloom.spec.entities import DEFAULT_PRECISION, DEFAULT_SCALE, SCALAR_TYPES


@dataclass
class Service:
    """What a router needs to call a flow's service."""

    module: str
    function: str
    input_class: str | None
    parameters: list[str]  # path parameter names, in path order
    reply: Reply


def describe_service(ir: ApplicationIR, flow: Flow, endpoint: Endpoint) -> Service:
    writer = FlowWriter(ir, flow, endpoint, Imports())
    return Service(
        module=naming.service_module(flow),
        function=naming.service_symbol(flow).rsplit(".", 1)[1],
        input_class=naming.flow_input_symbol(flow).rsplit(".", 1)[1] if flow.inputs else None,
        parameters=[parameter.name for parameter in endpoint.parameters],
        reply=writer.reply,
    )


def render_service(
    ir: ApplicationIR, flow: Flow, endpoint: Endpoint, requirement_ids: list[str]
) -> str:
    imports = Imports()
    imports.add("sqlalchemy.orm", "Session")
    service = describe_service(ir, flow, endpoint)
    blocks: list[str] = []
    if service.input_class is not None:
        blocks.append(_input_class(ir, flow, service.input_class, imports))
    writer = FlowWriter(ir, flow, endpoint, imports)
    prologue = writer.prologue()
    body = writer.steps(flow.steps, writer.names, writer.scope, indent=1)
    body += writer.epilogue(body)
    clock = []
    if writer.uses_now or writer.uses_today:
        imports.add("app.database", "utcnow")
        clock.append("    now = utcnow()")
        if writer.uses_today:
            clock.append("    today = now.date()")
        if not writer.uses_now:
            clock = ["    today = utcnow().date()"]
    parameters = ["session: Session"]
    parameters += [f"{writer.param(name)}: int" for name in service.parameters]
    if service.input_class is not None:
        parameters.append(f"data: {service.input_class}")
    answer = "None"
    if service.reply.entity is not None:
        answer = service.reply.entity
        imports.add(naming.model_module(answer), answer)
        if service.reply.many:
            answer = f"list[{answer}]"
    body = _drop_unused_records(prologue + body)
    prologue, body = body[: len(prologue)], body[len(prologue) :]
    where = f"{endpoint.method} {endpoint.path}"
    summary = f"{flow.id}. {flow.name} ({where}), in one transaction"
    function = [
        f"def {service.function}({', '.join(parameters)}) -> {answer}:",
        docstring(summary, requirement_ids).rstrip("\n"),
        *["    " + line for line in prologue],
        *clock,
        *body,
    ]
    blocks.append("\n".join(function))
    return module_text(f"Flow {flow.id}: {flow.name}.", imports, blocks, own_module=service.module)


_CREATED = re.compile(r"^(\s*)(\w+) = (\w+Repository\(session\)\.add\(.*)$")


def _drop_unused_records(lines: list[str]) -> list[str]:
    """`InvoiceLineRepository(session).add(...)` without a name when nothing reads it."""
    text = "\n".join(lines)
    kept = []
    for line in lines:
        created = _CREATED.match(line)
        if created is not None:
            name = created.group(2)
            uses = len(re.findall(rf"\b{re.escape(name)}\b", text))
            if uses == 1:
                line = f"{created.group(1)}{created.group(3)}"
        kept.append(line)
    return kept


def _input_class(ir: ApplicationIR, flow: Flow, name: str, imports: Imports) -> str:
    imports.add("pydantic", "BaseModel")
    lines = [f"class {name}(BaseModel):", docstring(f"What a client sends to {flow.name.lower()}")]
    for item in flow.inputs:
        lines.append(_input_line(ir, item, imports))
    return "\n".join(lines)


def _input_line(ir: ApplicationIR, item: FlowInput, imports: Imports) -> str:
    name = variable(item.name) if item.name in ("data", "session") else item.name
    arguments: list[str] = []
    if item.reference is not None and item.name.endswith("_id"):
        annotation = "int"
    elif item.entity is not None and item.field is not None:
        entity = ir.domain.entity(item.entity)
        field = entity.field(item.field) if entity else None
        annotation = _field_type(field, imports)
        if field is not None:
            arguments = constraint_arguments(field, imports)
    else:
        kind = SCALAR_TYPES.get((item.explicit_type or "string").lower(), "string")
        precision = DEFAULT_PRECISION if kind == "decimal" else None
        scale = DEFAULT_SCALE if kind == "decimal" else None
        annotation = scalar_schema_type(
            FieldType(kind=kind, precision=precision, scale=scale),
            imports,
        )
    default = ""
    if item.optional:
        annotation += " | None"
        default = "None"
    if arguments:
        imports.add("pydantic", "Field")
        if default:
            arguments.insert(0, f"default={default}")
        return f"    {name}: {annotation} = Field({', '.join(arguments)})"
    return f"    {name}: {annotation}" + (f" = {default}" if default else "")


def _field_type(field: Field | None, imports: Imports) -> str:
    if field is None:
        return "str"
    if field.type.kind == "reference":
        return "int"
    return scalar_schema_type(field.type, imports)
