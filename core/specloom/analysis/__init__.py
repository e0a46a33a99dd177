"""Phase 2, requirements analysis: resolve, check and classify what phase 1 parsed."""

from __future__ import annotations

from specloom.analysis.api import check_endpoints, check_reachable_entities
from specloom.analysis.domain import check_entities
from specloom.analysis.flows import FlowChecker
from specloom.analysis.requirements import build_requirements
from specloom.analysis.rules import check_rules
from specloom.analysis.scope import Assigned
from specloom.ir.application import ApplicationIR
from specloom.spec.diagnostics import DiagnosticSink


def analyse(ir: ApplicationIR, sink: DiagnosticSink) -> None:
    """Check the IR in place: diagnostics go to `sink`, derived facts into the IR."""
    assigned = Assigned(fields=set(), states=set())
    checker = FlowChecker(ir, sink, assigned)
    for flow in ir.behaviour.flows:
        checker.check(flow)
    check_entities(ir, sink, assigned)
    check_endpoints(ir, sink)
    check_reachable_entities(ir, sink)
    check_rules(ir, sink)
    build_requirements(ir, sink)


__all__ = ["analyse"]
