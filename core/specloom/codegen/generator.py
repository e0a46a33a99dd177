"""Phase 6's engine: the plan's tasks, each turned into the files (or the part of a
shared file) it produces.

`Generator.perform(task)` renders what one task owns and returns the files it
touched; a shared file (an entity's router, its rules module) is rendered again
from every part recorded so far, in spec order, so the tree never depends on the
order tasks finish in. Each task is first looked up in the pattern bank.
`Generator.finish()` formats the tree with ruff and adds the
trace map. Tests come from `specloom.codegen.testgen`; the first task performed starts
forked workers rendering the test modules the bank does not have (`workers`), so they
are ready, or nearly, when their tasks' turn comes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from specloom.codegen import shell
from specloom.codegen.bank import MemoryPatternBank, PatternBank, Rendered
from specloom.codegen.format import format_tree
from specloom.codegen.models import render_model, render_models_package
from specloom.codegen.pycode import Part
from specloom.codegen.repositories import render_repository
from specloom.codegen.routers import assemble_router, render_handler_part
from specloom.codegen.rules import assemble_rules, render_rule_part
from specloom.codegen.schemas import render_schemas
from specloom.codegen.services import render_service
from specloom.codegen.testgen import render_conftest, render_factories
from specloom.codegen.trace import trace_map
from specloom.codegen.workers import TestModules, worker_count
from specloom.ir.application import ApplicationIR
from specloom.plan import naming
from specloom.plan.index import PlanIndex
from specloom.plan.model import Plan, Task

TRACE_FILE = "specloom-trace.json"


UNSHARED = frozenset({"app", "infra"})
"""Task kinds whose code is never reused from a pattern bank (see `Generator._recall`)."""


@dataclass
class Generator:
    """Renders a plan's tasks into a tree of files (path -> text), in memory."""

    ir: ApplicationIR
    plan: Plan
    spec_name: str = "spec.md"
    bank: PatternBank = field(default_factory=MemoryPatternBank)
    files: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, dict[str, Part]] = field(default_factory=dict)
    checks: dict[str, dict[str, Part]] = field(default_factory=dict)
    workers: int = field(default_factory=worker_count)

    def __post_init__(self) -> None:
        self.stored: dict[str, Rendered] = {}
        """task id -> a pattern of the workspace's library for it (phase 6 fills it)"""
        self.rendered: dict[str, Rendered] = {}
        """task id -> what the task produced, rendered or reused"""
        self.reused: dict[str, str] = {}
        """task id -> where its code came from when it was not rendered: `memory` (this
        process rendered the same task before) or `library` (a stored pattern)"""
        self.test_modules = TestModules(self.ir)
        self.recalled: dict[str, Rendered | None] | None = None  # tests tasks, asked ahead
        self.index = PlanIndex.of(self.ir)
        self.endpoint_order = {e.id: i for i, e in enumerate(self.ir.api.endpoints)}
        self.rule_order = {r.id: i for i, r in enumerate(self.ir.behaviour.rules)}
        self.renderers: dict[str, Callable[[Task], Rendered]] = {
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
        """Render one task (or recall it from the pattern bank) and place what it produced;
        the paths it wrote, relative to the output directory."""
        if self.recalled is None:
            self.render_tests_ahead()
        assert self.recalled is not None
        rendered = self.recalled.pop(task.id) if task.id in self.recalled else self._recall(task)
        if rendered is None:
            rendered = self.renderers[task.kind](task)
            self.bank.remember(task, rendered)
        self.rendered[task.id] = rendered
        written = []
        for path, text in rendered.files:
            self.files[path] = text
            written.append(path)
        if rendered.part is not None:
            written.append(self.place_part(task, rendered.part))
        return written

    def render_tests_ahead(self) -> None:
        """Ask the bank for every tests task now, and start the workers on those it does
        not have (with one worker, each is rendered when its turn comes)."""
        self.recalled = {}
        if self.workers < 2:
            return
        jobs: list[tuple[str, list[str]]] = []
        for task in self.plan.tasks:
            if task.kind != "tests" or task.id in self.recalled:
                continue
            recalled = self._recall(task)
            self.recalled[task.id] = recalled
            if recalled is None and _test_module(task) is not None:
                jobs.append((task.subject, task.requirement_ids))
        self.test_modules.start(jobs, self.workers)

    def _recall(self, task: Task) -> Rendered | None:
        """What the task produced before: in this process, else in the library. The
        shell's tasks (`app`, `infra`) are always rendered: they read more of the spec
        than their signatures say (the title, every entity for the factories, every
        router for `main.py`), and they are quick."""
        if task.kind in UNSHARED:
            return None
        found = self.bank.recall(task)
        if found is not None:
            self.reused[task.id] = "memory"
            return found
        found = self.stored.get(task.id)
        if found is not None:
            self.reused[task.id] = "library"
            self.bank.remember(task, found)
        return found

    def place_part(self, task: Task, part: Part) -> str:
        """Put a handler or a rule check into its module and render the module again from
        every part recorded so far, in spec order."""
        if task.kind == "endpoint":
            endpoint = self.index.endpoints[task.subject]
            handlers = self.handlers.setdefault(endpoint.entity, {})
            handlers[endpoint.id] = part
            ordered = [handlers[i] for i in sorted(handlers, key=self.endpoint_order.__getitem__)]
            path = naming.module_file(naming.router_module(endpoint.entity))
            self.files[path] = assemble_router(endpoint.entity, ordered)
            return path
        rule = self.index.rules[task.subject]
        entity = rule.body.entity
        checks = self.checks.setdefault(entity, {})
        checks[rule.id] = part
        ordered = [checks[i] for i in sorted(checks, key=self.rule_order.__getitem__)]
        path = naming.module_file(naming.rules_module(entity))
        self.files[path] = assemble_rules(entity, ordered)
        return path

    def generate(self) -> dict[str, str]:
        """Every task, level by level, then the formatted tree with its trace map."""
        by_id = {task.id: task for task in self.plan.tasks}
        for level in self.plan.levels:
            for task_id in level:
                self.perform(by_id[task_id])
        return self.finish()

    def finish(self) -> dict[str, str]:
        self.test_modules.close()
        formatted = format_tree(self.files)
        formatted[TRACE_FILE] = trace_map(self.ir, formatted, self.spec_name)
        return dict(sorted(formatted.items()))

    # --- entities ----------------------------------------------------------------------

    def model(self, task: Task) -> Rendered:
        entity = self.index.entities[task.subject]
        path = naming.module_file(naming.model_module(entity.name))
        return _files((path, render_model(self.ir, entity, task.requirement_ids)))

    def schemas(self, task: Task) -> Rendered:
        entity = self.index.entities[task.subject]
        endpoints = [
            e
            for e in self.index.endpoints_of.get(entity.name, [])
            if e.id not in self.index.flow_of
        ]
        path = naming.module_file(naming.schemas_module(entity.name))
        return _files((path, render_schemas(self.ir, entity, endpoints, task.requirement_ids)))

    def repository(self, task: Task) -> Rendered:
        entity = self.index.entities[task.subject]
        path = naming.module_file(naming.repository_module(entity.name))
        return _files((path, render_repository(self.ir, entity, task.requirement_ids)))

    # --- API and behaviour -----------------------------------------------------------------

    def endpoint(self, task: Task) -> Rendered:
        endpoint = self.index.endpoints[task.subject]
        return Rendered(part=render_handler_part(self.index, endpoint, task.requirement_ids))

    def flow(self, task: Task) -> Rendered:
        flow = self.index.flows[task.subject]
        endpoint = self.index.endpoint_of(flow)
        if endpoint is None:
            # A flow no endpoint serves is reported by the compiler (SL405); nothing runs it.
            return Rendered()
        path = naming.module_file(naming.service_module(flow))
        return _files((path, render_service(self.ir, flow, endpoint, task.requirement_ids)))

    def rule(self, task: Task) -> Rendered:
        rule = self.index.rules[task.subject]
        return Rendered(part=render_rule_part(self.ir, rule, task.requirement_ids))

    def tests(self, task: Task) -> Rendered:
        module = _test_module(task)
        if module is None:
            return Rendered()
        return _files((module, self.test_modules.text(task.subject, task.requirement_ids)))

    # --- shell and infrastructure --------------------------------------------------------

    def app(self, task: Task) -> Rendered:
        ir = self.ir
        if task.subject == "database":
            return _files(
                ("app/database.py", shell.render_database(ir)),
                ("app/types.py", shell.render_types(ir)),
            )
        if task.subject == "errors":
            return _files(("app/errors.py", shell.render_errors(ir, task.requirement_ids)))
        packages = [
            (f"app/{name}/__init__.py", shell.render_package(f"The {name}."))
            for name in ("schemas", "repositories", "routers", "services")
        ]
        return _files(
            ("app/main.py", shell.render_main(self.index)),
            ("app/__init__.py", shell.render_package(f"{shell.title_of(ir)}.")),
            ("app/models/__init__.py", render_models_package(ir)),
            ("app/rules/__init__.py", shell.render_rules_init(ir)),
            *packages,
        )

    def infra(self, task: Task) -> Rendered:
        ir = self.ir
        if task.subject == "requirements":
            return _files(
                ("requirements.txt", shell.render_requirements(ir)),
                ("pyproject.toml", shell.render_pyproject(ir)),
            )
        if task.subject == "dockerfile":
            return _files(("Dockerfile", shell.render_dockerfile(ir)))
        if task.subject == "compose":
            return _files(("compose.yaml", shell.render_compose(ir)))
        if task.subject == "readme":
            return _files(("README.md", shell.render_readme(ir, self.spec_name)))
        return _files(
            ("tests/__init__.py", '"""The tests of the application."""\n'),
            ("tests/conftest.py", render_conftest(ir)),
            ("tests/factories.py", render_factories(ir)),
        )


def _test_module(task: Task) -> str | None:
    """The path of the test module a tests task writes."""
    return task.atomic.produces[0].path if task.atomic and task.atomic.produces else None


def _files(*files: tuple[str, str]) -> Rendered:
    return Rendered(files=tuple(files))
