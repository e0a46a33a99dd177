"""The generator of the generated application's test suite (`tests/` of the app).

Three parts, independent of the application emitters:

- an oracle: the IR's flow semantics run over an in-memory world of records
  (`world`, `evaluate`, `interpreter`, `rulecheck`; plain endpoints and ORM writes run
  as flows too, `pseudo`);
- a scenario solver: worlds and requests that make a flow take a chosen path, found by
  a deterministic search over the spec's values (`facts`, `template`, `builder`,
  `solver`, `scenarios`, with `values`, `regex` and `probes` for field values);
- emitters: tests that arrange the world through `db`, act through `client`, and
  assert what the oracle says (`emit`, `arrange`, `bulk`, and the modules:
  `flowtests`, `entitymodule` with `entitytests` and `constrainttests`, `ruletests`,
  `fixtures` for conftest.py).

Every test names its requirements on the last line of its docstring; what cannot be
tested through the app is said in a comment that names the requirement.
"""

from __future__ import annotations

from specloom.codegen.testgen.entitymodule import render_entity_tests
from specloom.codegen.testgen.factories import render_factories
from specloom.codegen.testgen.fixtures import render_conftest
from specloom.codegen.testgen.flowtests import render_flow_tests
from specloom.codegen.testgen.ruletests import render_rule_tests
from specloom.ir.application import ApplicationIR

__all__ = ["render_conftest", "render_factories", "render_test_module"]


def render_test_module(ir: ApplicationIR, subject: str, requirement_ids: list[str]) -> str:
    """The text of one test module: `subject` is a flow ID (that flow's tests), an entity
    name (its plain endpoints and field constraints) or "rules" (every rule)."""
    flow = ir.behaviour.flow(subject)
    if flow is not None:
        return render_flow_tests(ir, flow, requirement_ids)
    entity = ir.domain.entity(subject)
    if entity is not None:
        return render_entity_tests(ir, entity, requirement_ids)
    if subject == "rules":
        return render_rule_tests(ir, requirement_ids)
    raise ValueError(f"no tests for '{subject}': not an entity, a flow or 'rules'")
