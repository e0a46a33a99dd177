"""Phase 3, multi-pass planning: the IR decomposed into the tasks a developer would name.

Four passes, in this order: the entities (model, schemas, repository of each), the
API and behaviour (each endpoint, flow and rule), the tests (per entity, per flow,
the rules), then the application shell and infrastructure files.

Every task gets a semantic signature: its purpose, the symbols it needs and
produces (its atomic contract, phase 4), the entities it is about, and the
canonical JSON of exactly the IR content it depends on, without source ranges.
The signature hash therefore survives lines moving and edits elsewhere in the
spec, and changes when that content changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import Flow, Rule
from specloom.ir.domain import Entity
from specloom.ir.validation import ErrorKind
from specloom.plan.atomizer import contract
from specloom.plan.index import PlanIndex
from specloom.plan.model import SemanticSignature, Task, TaskKind
from specloom.plan.signature import constraint, content, signature_hash

UNIQUENESS = ("unique", "unique_with")

APP_PARTS = {
    "database": (
        "Database setup",
        "the database engine, the session per request and the declarative base every model shares",
    ),
    "errors": (
        "Error policy",
        "the error policy: the application's exceptions and the "
        "handlers that answer them with the status the spec gives each kind",
    ),
    "main": (
        "Application entry point",
        "the FastAPI application: every router, the error "
        "handlers, table creation at start-up and /health",
    ),
}
INFRA_PARTS = {
    "requirements": ("requirements.txt", "the Python packages the application runs on"),
    "dockerfile": ("Dockerfile", "the container image that serves the application"),
    "compose": ("Compose file", "the compose file that runs the application and its database"),
    "readme": ("README", "the README: what the application does, how to run it, its endpoints"),
    "conftest": ("Test fixtures", "the pytest fixtures: a fresh database and a client per test"),
}


def plan_tasks(ir: ApplicationIR) -> list[Task]:
    """Every task of the spec, pass by pass, in spec order within a pass."""
    return plan_with(PlanIndex.of(ir))


def plan_with(index: PlanIndex) -> list[Task]:
    planner = Planner(index)
    planner.entity_pass()
    planner.behaviour_pass()
    planner.test_pass()
    planner.shell_pass()
    return planner.tasks


class Planner:
    """Makes the tasks of one IR, pass by pass; `tasks` holds them in the order made."""

    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self.tasks: list[Task] = []
        self._ids: set[str] = set()
        self._texts: dict[str, str] = {}

    def add(
        self,
        kind: TaskKind,
        subject: str,
        title: str,
        *,
        purpose: str,
        domain: Iterable[str],
        constraints: list[str],
        requirement_ids: Iterable[str] = (),
    ) -> None:
        """One task; a second task with the same ID (a spec with duplicates) is dropped."""
        task_id = f"{kind}:{subject}"
        if task_id in self._ids:
            return
        self._ids.add(task_id)
        implements = list(dict.fromkeys(requirement_ids))
        spec = contract(self.index, kind, subject, implements)
        signature = SemanticSignature(
            purpose=purpose,
            inputs=spec.needs,
            outputs=[symbol for produced in spec.produces for symbol in produced.symbols],
            domain=list(dict.fromkeys(domain)),
            constraints=constraints,
        )
        self.tasks.append(
            Task(
                id=task_id,
                kind=kind,
                title=title,
                subject=subject,
                signature=signature,
                signature_hash=signature_hash(signature),
                requirement_ids=implements,
            )
        )

    # --- what tasks depend on ----------------------------------------------------------

    def text(self, tag: str, node: Entity | Endpoint | Flow | Rule, key: str) -> str:
        """The constraint text of an IR node, worked out once per node."""
        cache_key = f"{tag}:{key}"
        if cache_key not in self._texts:
            self._texts[cache_key] = constraint(tag, content(node))
        return self._texts[cache_key]

    def entity_text(self, name: str) -> str:
        return self.text("entity", self.index.entities[name], name)

    def endpoint_text(self, endpoint: Endpoint) -> str:
        return self.text("endpoint", endpoint, endpoint.id)

    def entity_texts(self, names: Iterable[str]) -> list[str]:
        return [self.entity_text(name) for name in names]

    def error_statuses(self) -> str:
        policy = self.index.ir.validation.error_policy
        return constraint("errors", {kind: policy.status_for(kind) for kind in get_args(ErrorKind)})

    def rule_statuses(self, rules: list[Rule]) -> list[str]:
        """The rules a write checks: which (its ID) and how it answers (its status)."""
        return [constraint("rule", {"id": rule.id, "status": rule.status}) for rule in rules]

    def flow_texts(self, flow: Flow) -> list[str]:
        """A flow, its endpoint, the entities it touches and the rules on them."""
        texts = [self.text("flow", flow, flow.id)]
        served = self.index.endpoint_of(flow)
        if served is not None:
            texts.append(self.endpoint_text(served))
        touched = self.index.flow_entities(flow)
        texts += self.rule_statuses(self.index.rules_touching(touched))
        return texts + self.entity_texts(touched)

    def arranged_texts(self, names: Iterable[str]) -> list[str]:
        """What a test module reads to arrange its records: every entity it must create
        first (the references of `names`, followed to the end) and the rules on them;
        an edit of any of those changes the records the tests build."""
        seen: list[str] = []
        todo = [name for name in names if name in self.index.entities]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.append(name)
            for field in self.index.entities[name].fields:
                target = field.type.entity
                if field.type.kind == "reference" and target in self.index.entities:
                    todo.append(target)
        arranged = sorted(seen)
        rules = self.rule_statuses(self.index.rules_touching(arranged))
        rule_contents = [
            constraint("rule", content(rule)) for rule in self.index.rules_touching(arranged)
        ]
        entities = self.entity_texts(arranged)
        return [constraint("arranged", arranged), *entities, *rules, *rule_contents]

    def rule_texts(self, rule: Rule) -> list[str]:
        return [
            constraint("rule", content(rule)),
            *self.entity_texts(self.index.rule_entities(rule)),
        ]

    # --- pass 1: entities ------------------------------------------------------------

    def entity_pass(self) -> None:
        for entity in self.index.entities.values():
            name = entity.name
            every = constraint_ids(entity)
            unique = [req for req in every if is_uniqueness(req)]
            text = self.entity_text(name)
            self.add(
                "model",
                name,
                f"{name} model",
                purpose=f"the SQLAlchemy model of {name}: its table, columns, constraints "
                "and relationships",
                domain=[name],
                constraints=[text],
                requirement_ids=every,
            )
            self.add(
                "schemas",
                name,
                f"{name} schemas",
                purpose=f"the pydantic schemas of {name}: what a client sends to create or "
                "update one, and what it gets back",
                domain=[name],
                constraints=[text, *self.update_shapes(name)],
                requirement_ids=[req for req in every if req not in unique],
            )
            self.add(
                "repository",
                name,
                f"{name} repository",
                purpose=f"data access for {name} records: get by id, list with filters, "
                "order and pages, add, update and delete",
                domain=[name],
                constraints=[text, *self.query_shapes(name)],
                requirement_ids=unique,
            )

    def update_shapes(self, entity: str) -> list[str]:
        """The fields each plain update endpoint lets a client change."""
        return [
            constraint("updatable", {"endpoint": e.id, "method": e.method, "fields": e.updatable})
            for e in self.index.endpoints_of.get(entity, [])
            if e.kind == "update" and e.id not in self.index.flow_of
        ]

    def query_shapes(self, entity: str) -> list[str]:
        """How the endpoints of an entity look its records up: filters, order, pages, parent."""
        shapes: list[str] = []
        for e in self.index.endpoints_of.get(entity, []):
            shape = {
                "endpoint": e.id,
                "kind": e.kind,
                "filters": e.filters,
                "ordering": [content(order) for order in e.ordering],
                "parent": e.parent,
                "parent_field": e.parent_field,
                "paginated": e.paginated,
                "page_size": e.page_size,
            }
            shapes.append(constraint("query", shape))
        return shapes

    # --- pass 2: API and behaviour ----------------------------------------------------

    def behaviour_pass(self) -> None:
        for endpoint in self.index.endpoints.values():
            self.add_endpoint(endpoint)
        for flow in self.index.flows.values():
            self.add_flow(flow)
        for rule in self.index.rules.values():
            self.add(
                "rule",
                rule.id,
                f"Rule {rule.id}",
                purpose=f"the check of rule {rule.id}: {rule.text}",
                domain=self.index.rule_entities(rule),
                constraints=self.rule_texts(rule),
                requirement_ids=[rule.id],
            )

    def add_endpoint(self, endpoint: Endpoint) -> None:
        flow = self.index.flow_of.get(endpoint.id)
        if flow is None:
            touched = self.index.endpoint_entities(endpoint)
            texts = [self.endpoint_text(endpoint), *self.entity_texts(touched)]
            if endpoint.kind in ("create", "update"):
                texts += self.rule_statuses(self.index.rules_on.get(endpoint.entity, []))
        else:
            touched = self.index.flow_entities(flow)
            texts = self.flow_texts(flow)
        what = endpoint.summary or f"{endpoint.kind} {endpoint.entity}"
        self.add(
            "endpoint",
            endpoint.id,
            f"{endpoint.id} {endpoint.method} {endpoint.path}",
            purpose=f"the handler of {endpoint.method} {endpoint.path}: {what}",
            domain=touched,
            constraints=texts,
            requirement_ids=endpoint_requirements(endpoint) + ([flow.id] if flow else []),
        )

    def add_flow(self, flow: Flow) -> None:
        served = self.index.endpoint_of(flow)
        where = f" behind {served.method} {served.path}" if served else ""
        self.add(
            "flow",
            flow.id,
            f"Flow {flow.id}: {flow.name}",
            purpose=f"the flow '{flow.name}'{where}: its guards and effects in one transaction",
            domain=self.index.flow_entities(flow),
            constraints=self.flow_texts(flow),
            requirement_ids=flow_requirements(flow, served),
        )

    # --- pass 3: tests -----------------------------------------------------------------

    def test_pass(self) -> None:
        errors = self.error_statuses()
        for entity in self.index.entities.values():
            self.add_entity_tests(entity, errors)
        for flow in self.index.flows.values():
            self.add(
                "tests",
                flow.id,
                f"Tests of flow {flow.id}: {flow.name}",
                purpose=f"acceptance tests of the flow '{flow.name}': each guard and each effect",
                domain=self.index.flow_entities(flow),
                constraints=[
                    errors,
                    *self.flow_texts(flow),
                    *self.arranged_texts(self.index.flow_entities(flow)),
                ],
                requirement_ids=flow_requirements(flow, self.index.endpoint_of(flow)),
            )
        if self.index.rules:
            rules = list(self.index.rules.values())
            texts = [errors, *(text for rule in rules for text in self.rule_texts(rule))]
            touched = [name for rule in rules for name in self.index.rule_entities(rule)]
            texts += self.arranged_texts(touched)
            self.add(
                "tests",
                "rules",
                "Tests of the rules",
                purpose="tests of every rule: a write that breaks it is refused with its status",
                domain=[name for rule in rules for name in self.index.rule_entities(rule)],
                constraints=list(dict.fromkeys(texts)),
                requirement_ids=[rule.id for rule in rules],
            )

    def add_entity_tests(self, entity: Entity, errors: str) -> None:
        """Tests of an entity's plain endpoints (flows have their own) and its constraints."""
        endpoints = self.index.endpoints_of.get(entity.name, [])
        tested = [e for e in endpoints if e.id not in self.index.flow_of]
        self.add(
            "tests",
            entity.name,
            f"Tests of {entity.name}",
            purpose=f"tests of {entity.name}: its endpoints and the constraints of its fields",
            domain=[entity.name],
            constraints=[
                self.entity_text(entity.name),
                errors,
                *(self.endpoint_text(e) for e in tested),
                *self.arranged_texts([entity.name]),
            ],
            requirement_ids=[req for e in tested for req in endpoint_requirements(e)]
            + constraint_ids(entity),
        )

    # --- pass 4: the application shell and infrastructure --------------------------------

    def shell_pass(self) -> None:
        ir = self.index.ir
        application = constraint("application", {"name": ir.name, "description": ir.description})
        infrastructure = constraint("infrastructure", content(ir.infrastructure))
        endpoints = [
            {"id": e.id, "method": e.method, "path": e.path, "summary": e.summary}
            for e in self.index.endpoints.values()
        ]
        texts = {
            "app:database": [infrastructure],
            "app:errors": [self.error_statuses()],
            "app:main": [application, infrastructure],
            "infra:compose": [constraint("application", {"name": ir.name}), infrastructure],
            "infra:readme": [application, infrastructure, constraint("endpoints", endpoints)],
        }
        policy = [req.id for req in ir.validation.requirements if req.kind == "error_policy"]
        shell: list[tuple[TaskKind, dict[str, tuple[str, str]]]] = [
            ("app", APP_PARTS),
            ("infra", INFRA_PARTS),
        ]
        for kind, parts in shell:
            for part, (title, purpose) in parts.items():
                task_id = f"{kind}:{part}"
                self.add(
                    kind,
                    part,
                    title,
                    purpose=purpose,
                    domain=[],
                    constraints=texts.get(task_id, [infrastructure]),
                    requirement_ids=policy if task_id == "app:errors" else [],
                )


def constraint_ids(entity: Entity) -> list[str]:
    """The requirement IDs of an entity's field constraints and `unique together` lines."""
    ids = [req for field in entity.fields for req in field.requirement_ids]
    return ids + [t.requirement_id for t in entity.unique_together if t.requirement_id]


def is_uniqueness(requirement_id: str) -> bool:
    """`Book.isbn.unique`, `X.a.unique_with`, `Account.unique(owner,currency)`: checked
    against the stored records (409), not by the request schemas."""
    return requirement_id.rsplit(".", 1)[-1] in UNIQUENESS or ".unique(" in requirement_id


def endpoint_requirements(endpoint: Endpoint) -> list[str]:
    """A CRUD endpoint implements its line's requirement (F1) and its own ID (F1.create)."""
    return list(dict.fromkeys([endpoint.crud_group or endpoint.id, endpoint.id]))


def flow_requirements(flow: Flow, served: Endpoint | None) -> list[str]:
    """A flow implements its own ID and its endpoint's requirements."""
    return [flow.id, *(endpoint_requirements(served) if served else [])]
