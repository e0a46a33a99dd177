"""Phase 6's engine: the plan's tasks, each turned into the files (or the part of a
shared file) it produces.

`Generator.perform(task)` renders what one task owns and returns the files it
touched; a shared file (an entity's router, its rules module) is rendered again
from every part recorded so far, in spec order, so the tree never depends on the
order tasks finish in. `Generator.finish()` formats the tree with ruff and adds the
trace map. Tests come from `specloom.codegen.testgen`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from specloom.codegen import shell
from specloom.codegen.format import format_tree
from specloom.codegen.models import render_model, render_models_package
from specloom.codegen.pycode import Imports
from specloom.codegen.repositories import render_repository
from specloom.codegen.routers import assemble_router, render_handler_part
from specloom.codegen.rules import render_rules
from specloom.codegen.schemas import render_schemas
from specloom.codegen.services import render_service
from specloom.codegen.trace import trace_map
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Rule
from specloom.plan import naming
from specloom.plan.index import PlanIndex
from specloom.plan.model import Plan, Task

TRACE_FILE = "specloom-trace.json"


@dataclass
class Generator:
    """Renders a plan's tasks into a tree of files (path -> text), in memory."""

    ir: ApplicationIR
    plan: Plan
    spec_name: str = "spec.md"
    files: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, dict[str, tuple[str, Imports]]] = field(default_factory=dict)
    checks: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = PlanIndex.of(self.ir)
        self.endpoint_order = {e.id: i for i, e in enumerate(self.ir.api.endpoints)}
        self.rule_order = {r.id: i for i, r in enumerate(self.ir.behaviour.rules)}
        self.emitters: dict[str, Callable[[Task], list[str]]] = {
            "model": self.model,
            "schemas": self.schemas,
            "repository": self.repository,
            "endpoint": self.endpoint,
            "flow": self.flow,
            "rule": self.rule,
            "tests": self.tests,
            "app": self.app,
            "infra": self.infra,
        }

    def perform(self, task: Task) -> list[str]:
        """Render one task; the paths it wrote, relative to the output directory."""
        return self.emitters[task.kind](task)

    def generate(self) -> dict[str, str]:
        """Every task, level by level, then the formatted tree with its trace map."""
        by_id = {task.id: task for task in self.plan.tasks}
        for level in self.plan.levels:
            for task_id in level:
                self.perform(by_id[task_id])
        return self.finish()

    def finish(self) -> dict[str, str]:
        formatted = format_tree(self.files)
        formatted[TRACE_FILE] = trace_map(self.ir, formatted, self.spec_name)
        return dict(sorted(formatted.items()))

    def write(self, path: str, text: str) -> list[str]:
        self.files[path] = text
        return [path]

    # --- entities ----------------------------------------------------------------------

    def model(self, task: Task) -> list[str]:
        entity = self.index.entities[task.subject]
        path = naming.module_file(naming.model_module(entity.name))
        return self.write(path, render_model(self.ir, entity, task.requirement_ids))

    def schemas(self, task: Task) -> list[str]:
        entity = self.index.entities[task.subject]
        endpoints = [
            e
            for e in self.index.endpoints_of.get(entity.name, [])
            if e.id not in self.index.flow_of
        ]
        path = naming.module_file(naming.schemas_module(entity.name))
        return self.write(path, render_schemas(self.ir, entity, endpoints, task.requirement_ids))

    def repository(self, task: Task) -> list[str]:
        entity = self.index.entities[task.subject]
        path = naming.module_file(naming.repository_module(entity.name))
        return self.write(path, render_repository(self.ir, entity, task.requirement_ids))

    # --- API and behaviour -----------------------------------------------------------------

    def endpoint(self, task: Task) -> list[str]:
        endpoint = self.index.endpoints[task.subject]
        handlers = self.handlers.setdefault(endpoint.entity, {})
        handlers[endpoint.id] = render_handler_part(self.index, endpoint, task.requirement_ids)
        ordered = [
            handlers[endpoint_id]
            for endpoint_id in sorted(handlers, key=self.endpoint_order.__getitem__)
        ]
        path = naming.module_file(naming.router_module(endpoint.entity))
        return self.write(path, assemble_router(endpoint.entity, ordered))

    def flow(self, task: Task) -> list[str]:
        flow = self.index.flows[task.subject]
        endpoint = self.index.endpoint_of(flow)
        if endpoint is None:
            # A flow no endpoint serves is reported by the compiler (SL405); nothing to run it.
            return []
        path = naming.module_file(naming.service_module(flow))
        return self.write(path, render_service(self.ir, flow, endpoint, task.requirement_ids))

    def rule(self, task: Task) -> list[str]:
        rule = self.index.rules[task.subject]
        entity = rule.body.entity
        checks = self.checks.setdefault(entity, {})
        checks[rule.id] = task.requirement_ids
        ordered: list[tuple[Rule, list[str]]] = [
            (self.index.rules[rule_id], checks[rule_id])
            for rule_id in sorted(checks, key=self.rule_order.__getitem__)
        ]
        path = naming.module_file(naming.rules_module(entity))
        return self.write(path, render_rules(self.ir, entity, ordered))

    def tests(self, task: Task) -> list[str]:
        from specloom.codegen.testgen import render_test_module

        module = task.atomic.produces[0].path if task.atomic and task.atomic.produces else None
        if module is None:
            return []
        text = render_test_module(self.ir, task.subject, task.requirement_ids)
        return self.write(module, text)

    # --- shell and infrastructure --------------------------------------------------------

    def app(self, task: Task) -> list[str]:
        ir = self.ir
        if task.subject == "database":
            return self.write("app/database.py", shell.render_database(ir)) + self.write(
                "app/types.py", shell.render_types(ir)
            )
        if task.subject == "errors":
            return self.write("app/errors.py", shell.render_errors(ir, task.requirement_ids))
        written = self.write("app/main.py", shell.render_main(self.index))
        written += self.write("app/__init__.py", shell.render_package(f"{shell.title_of(ir)}."))
        written += self.write("app/models/__init__.py", render_models_package(ir))
        written += self.write("app/rules/__init__.py", shell.render_rules_init(ir))
        for package in ("schemas", "repositories", "routers", "services"):
            written += self.write(
                f"app/{package}/__init__.py", shell.render_package(f"The {package}.")
            )
        return written

    def infra(self, task: Task) -> list[str]:
        ir = self.ir
        if task.subject == "requirements":
            return self.write("requirements.txt", shell.render_requirements(ir)) + self.write(
                "pyproject.toml", shell.render_pyproject(ir)
            )
        if task.subject == "dockerfile":
            return self.write("Dockerfile", shell.render_dockerfile(ir))
        if task.subject == "compose":
            return self.write("compose.yaml", shell.render_compose(ir))
        if task.subject == "readme":
            return self.write("README.md", shell.render_readme(ir, self.spec_name))
        from specloom.codegen.testgen import render_conftest

        return self.write(
            "tests/__init__.py", '"""The tests of the application."""\n'
        ) + self.write("tests/conftest.py", render_conftest(ir))
