"""Check 5, compliance: the app against the IR, and the IR against the trace map.

1. **Endpoints.** Every endpoint of `ir.api.endpoints` is an operation of the app's
   OpenAPI document with its method and path (parameter names aside: `/books/{id}`
   matches `/books/{book_id}`). Else `missing-endpoint`.
2. **Fields.** The request body of every create and update endpoint takes the fields
   the spec lets a client write. That is the body each endpoint actually declares, not a
   schema looked up by name (OpenAPI lists only the schemas some operation uses):
   a plain create takes every stored field that is not read-only (`<Entity>Create`),
   without the reference a nested path gives; a plain update the fields it names
   (every writable field when it names none: `<Entity>Update`); an endpoint with a
   flow the flow's inputs (`<Flow>Input`). A field absent from the body is a
   `missing-field` of that endpoint's requirement. The fields of a missing endpoint
   are not counted again.
3. **Requirements.** Every requirement of `ir.validation.requirements` has at least one
   code location in `specloom-trace.json`, in a file that exists. Else
   `untraced-requirement`.

Which kinds need code: an `endpoint` is a handler, a `flow` a service function, a `rule`
a check function, a `constraint` a model column or a schema field: each is realised by
a symbol of its own, so each must be traced to one. An `error_policy` requirement
("an unknown id answers 404", "a field that breaks its constraints answers 422") has no
code by nature: FastAPI's request validation and the shared `AppError` handler realise
it for every endpoint at once, and whatever location the trace map gives it is
nominal. Its evidence is the tests that check those statuses, so an `error_policy`
requirement counts as traced with a code location *or* a test; only one with neither is
untraced.

Figures: `checked` items (endpoints, fields, requirements), `present`, and `percent`
(rounded down to 0.1, so 100 means complete), with the same three per part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow
from specloom.ir.domain import Entity, Field
from specloom.pipeline.cancel import CancelToken
from specloom.plan import naming
from specloom.verify.checks.common import CheckResult, located, process_detail
from specloom.verify.checks.openapi import (
    body_properties,
    dump_openapi,
    operations,
    path_shape,
)
from specloom.verify.findings import Finding
from specloom.verify.sandbox import Limits
from specloom.verify.traceindex import TRACE_FILE, TraceIndex

# requirement kinds realised without a symbol of their own (see the module docstring)
NO_CODE_KINDS = frozenset({"error_policy"})


@dataclass
class Tally:
    checked: int = 0
    present: int = 0

    def count(self, present: bool) -> bool:
        self.checked += 1
        self.present += present
        return present

    def figures(self) -> dict[str, Any]:
        return {"checked": self.checked, "present": self.present, "percent": percent(self)}


def percent(tally: Tally) -> float:
    """Present / checked in %, rounded down to 0.1 (100.0 only when nothing is missing)."""
    if tally.checked == 0:
        return 100.0
    return math.floor(1000 * tally.present / tally.checked) / 10


def requirement_of(ir: ApplicationIR, endpoint: Endpoint) -> str:
    """The requirement an endpoint implements: its own ID, or the one about it."""
    requirements = ir.validation.requirements
    if any(r.id == endpoint.id for r in requirements):
        return endpoint.id
    for requirement in requirements:
        if requirement.kind in ("endpoint", "flow") and endpoint.id in requirement.subjects:
            return requirement.id
    return endpoint.id


def router_file(endpoint: Endpoint, requirement_id: str, trace: TraceIndex) -> str:
    """Where the endpoint's handler is (or should be): the trace map's router location, else
    the router module the naming rules give."""
    for place in trace.code_of(requirement_id):
        if place.path.startswith("app/routers/"):
            return place.path
    return naming.module_file(naming.router_module(endpoint.parent or endpoint.entity))


def flow_of(ir: ApplicationIR, endpoint: Endpoint) -> Flow | None:
    for flow in ir.behaviour.flows:
        if flow.endpoint == endpoint.id or (endpoint.flow is not None and flow.id == endpoint.flow):
            return flow
    return None


def writable(entity: Entity) -> list[Field]:
    """What a client may send on create: stored fields that are not read-only."""
    return [f for f in entity.fields if f.is_stored and not f.read_only]


def expected_fields(ir: ApplicationIR, endpoint: Endpoint) -> list[str]:
    """The JSON names the request body of `endpoint` must accept (none for reads)."""
    flow = flow_of(ir, endpoint)
    if flow is not None:
        return [item.name for item in flow.inputs]
    entity = ir.domain.entity(endpoint.entity)
    if entity is None:
        return []
    if endpoint.kind == "create":
        fields = writable(entity)
        if endpoint.parent is not None:
            # the parent comes from the path: `POST /shelves/{id}/items`
            fields = [
                f
                for f in fields
                if not (f.type.kind == "reference" and f.type.entity == endpoint.parent)
            ]
        return [f.json_name for f in fields]
    if endpoint.kind == "update":
        fields = writable(entity)
        if endpoint.updatable:
            named = set(endpoint.updatable)
            fields = [f for f in fields if f.name in named or f.json_name in named]
        return [f.json_name for f in fields]
    return []


def check_api(
    ir: ApplicationIR,
    document: dict[str, Any] | None,
    trace: TraceIndex,
    endpoints: Tally,
    fields: Tally,
) -> list[Finding]:
    """Endpoints and request fields of the IR against the OpenAPI document."""
    findings: list[Finding] = []
    found = operations(document) if document is not None else {}
    for endpoint in ir.api.endpoints:
        requirement_id = requirement_of(ir, endpoint)
        where = router_file(endpoint, requirement_id, trace)
        operation = found.get((endpoint.method, path_shape(endpoint.path)))
        if not endpoints.count(operation is not None):
            if document is not None:
                findings.append(
                    Finding(
                        check="compliance",
                        kind="missing-endpoint",
                        message=f"{endpoint.method} {endpoint.path} is not in the app's API",
                        file=where,
                        requirement_id=requirement_id,
                        detail={"endpoint": endpoint.id},
                    )
                )
            continue
        assert operation is not None
        expected = expected_fields(ir, endpoint)
        if not expected or document is None:
            continue
        accepted = body_properties(document, operation) or set()
        for name in expected:
            if not fields.count(name in accepted):
                findings.append(
                    Finding(
                        check="compliance",
                        kind="missing-field",
                        message=f"the request body of {endpoint.method} {endpoint.path} "
                        f"has no field '{name}'",
                        file=where,
                        requirement_id=requirement_id,
                        detail={"endpoint": endpoint.id, "field": name},
                    )
                )
    return findings


def check_trace(
    ir: ApplicationIR, trace: TraceIndex, app_dir: Path, requirements: Tally
) -> list[Finding]:
    """Every requirement traced to code that exists (see NO_CODE_KINDS)."""
    findings: list[Finding] = []
    exists: dict[str, bool] = {}

    def real(path: str) -> bool:
        if path not in exists:
            exists[path] = (app_dir / path).is_file()
        return exists[path]

    trace_present = bool(trace.requirements)
    for requirement in ir.validation.requirements:
        code = [p for p in trace.code_of(requirement.id) if real(p.path)]
        traced = bool(code)
        if not traced and requirement.kind in NO_CODE_KINDS:
            entry = trace.requirements.get(requirement.id, {})
            traced = any(real(str(p.get("path", ""))) for p in entry.get("tests", []))
        if requirements.count(traced) or not trace_present:
            continue
        findings.append(
            Finding(
                check="compliance",
                kind="untraced-requirement",
                message=f"requirement {requirement.id} ({requirement.kind}) has no code "
                f"location in {TRACE_FILE}",
                file=TRACE_FILE,
                requirement_id=requirement.id,
                detail={"kind": requirement.kind, "text": requirement.text},
            )
        )
    return findings


async def check_compliance(
    app_dir: Path,
    python: str,
    ir: ApplicationIR,
    database_url: str = "",
    *,
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
    trace: TraceIndex | None = None,
) -> CheckResult:
    """The app's API against the IR, and the IR's requirements against the trace map."""
    trace = trace if trace is not None else TraceIndex.load(app_dir)
    dump = await dump_openapi(app_dir, python, database_url, limits=limits, cancel=cancel)
    findings: list[Finding] = []
    if dump.document is None:
        findings.append(
            Finding(
                check="compliance",
                kind="openapi-failed",
                message=f"the app's OpenAPI document could not be read: {dump.error}",
                file="app/main.py",
                detail=process_detail(dump.completed),
            )
        )
    if not trace.requirements:
        findings.append(
            Finding(
                check="compliance",
                kind="missing-trace-map",
                message=f"{TRACE_FILE} is missing, unreadable or empty",
                file=TRACE_FILE,
            )
        )
    endpoints, fields, requirements = Tally(), Tally(), Tally()
    findings += check_api(ir, dump.document, trace, endpoints, fields)
    findings += check_trace(ir, trace, app_dir, requirements)
    total = Tally(
        endpoints.checked + fields.checked + requirements.checked,
        endpoints.present + fields.present + requirements.present,
    )
    figures = {
        **total.figures(),
        "endpoints": endpoints.figures(),
        "fields": fields.figures(),
        "requirements": requirements.figures(),
        "seconds": round(dump.completed.seconds, 2),
    }
    return CheckResult("compliance", located(findings, trace), figures)
