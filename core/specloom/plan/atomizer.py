"""Phase 4, atomization: one atomic spec per task, what it produces and what it needs.

A task produces files (or its part of a shared file, such as one handler in an
entity's router) and the symbols defined there; it needs the symbols of other
tasks, read off the IR. Phase 5 turns needs into edges. Model tasks need only the
declarative base: SQLAlchemy refers to other tables by name, so entities that refer
to each other do not make the models depend on each other.
"""

from __future__ import annotations

from collections.abc import Callable

from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.plan import naming
from specloom.plan.index import PlanIndex
from specloom.plan.model import AtomicSpec, ProducedFile, Task

Symbols = list[str]
Contract = tuple[list[ProducedFile], Symbols]  # what a task produces, what it needs


def atomize(ir: ApplicationIR, tasks: list[Task]) -> list[Task]:
    """The tasks, each with its atomic spec (`implements` = its requirement IDs)."""
    return atomize_with(PlanIndex.of(ir), tasks)


def atomize_with(index: PlanIndex, tasks: list[Task]) -> list[Task]:
    return [
        task.model_copy(
            update={"atomic": contract(index, task.kind, task.subject, task.requirement_ids)}
        )
        for task in tasks
    ]


def contract(index: PlanIndex, kind: str, subject: str, implements: list[str]) -> AtomicSpec:
    """What the task of this kind and subject produces and needs. The index keeps it, so
    planning and atomization work it out once: treat it as read-only."""
    key = f"{kind}:{subject}"
    found = index.contracts.get(key)
    if found is None or found.implements != implements:
        produces, needs = _CONTRACTS[kind](index, subject, implements)
        own = {symbol for produced in produces for symbol in produced.symbols}
        found = AtomicSpec(
            produces=produces, needs=sorted(set(needs) - own), implements=list(implements)
        )
        index.contracts[key] = found
    return found


def file_of(module: str, *symbols: str) -> ProducedFile:
    return ProducedFile(path=naming.module_file(module), symbols=list(symbols))


# --- entities --------------------------------------------------------------------


def model(index: PlanIndex, entity: str, _: Symbols) -> Contract:
    produced = file_of(naming.model_module(entity), naming.model_symbol(entity))
    return [produced], [naming.DATABASE_BASE]


def schemas(index: PlanIndex, entity: str, _: Symbols) -> Contract:
    """An entity's read schema embeds the read schema of each collection's children."""
    produced = file_of(naming.schemas_module(entity), *naming.schema_symbols(entity).values())
    record = index.entities.get(entity)
    children = (
        [f.type.entity for f in record.fields if f.type.kind == "collection"] if record else []
    )
    return [produced], [naming.read_schema(child) for child in children if child]


def repository(index: PlanIndex, entity: str, _: Symbols) -> Contract:
    produced = file_of(naming.repository_module(entity), naming.repository_symbol(entity))
    return [produced], [naming.model_symbol(entity), naming.ERROR_CLASS]


# --- API and behaviour -------------------------------------------------------------


def endpoint(index: PlanIndex, endpoint_id: str, _: Symbols) -> Contract:
    """A handler in its entity's router: its schemas, repositories, flow or rule checks."""
    item = index.endpoints[endpoint_id]
    produced = file_of(
        naming.router_module(item.entity),
        naming.router_symbol(item.entity),
        naming.handler_symbol(item),
    )
    needs = [naming.DATABASE_SESSION, *endpoint_schemas(index, item)]
    needs += [naming.repository_symbol(name) for name in index.endpoint_entities(item)]
    flow = index.flow_of.get(item.id)
    if flow is not None:
        needs.append(naming.service_symbol(flow))
        if flow.inputs:
            needs.append(naming.flow_input_symbol(flow))
    elif item.kind in ("create", "update"):
        needs += [naming.rule_symbol(checked) for checked in index.rules_on.get(item.entity, [])]
    return [produced], needs


def endpoint_schemas(index: PlanIndex, item: Endpoint) -> Symbols:
    """What the handler reads from the request and answers with."""
    own = naming.schema_symbols(item.entity)
    flow = index.flow_of.get(item.id)
    if flow is not None:
        answered = index.flow_responses(flow) or [item.target or item.entity]
        return [naming.read_schema(name) for name in answered]
    body = {"create": [own["Create"]], "update": [own["Update"]], "list": [own["Page"]]}
    return [*body.get(item.kind, []), own["Read"]]


def flow(index: PlanIndex, flow_id: str, _: Symbols) -> Contract:
    """A service function: the models and repositories of every entity it touches and
    the rules on them."""
    item = index.flows[flow_id]
    symbols = [naming.service_symbol(item)]
    if item.inputs:
        symbols.append(naming.flow_input_symbol(item))
    touched = index.flow_entities(item)
    needs = [naming.ERROR_CLASS]
    for name in touched:
        needs += [naming.model_symbol(name), naming.repository_symbol(name)]
    needs += [naming.rule_symbol(checked) for checked in index.rules_touching(touched)]
    return [file_of(naming.service_module(item), *symbols)], needs


def rule(index: PlanIndex, rule_id: str, _: Symbols) -> Contract:
    item = index.rules[rule_id]
    produced = file_of(naming.rules_module(item.body.entity), naming.rule_symbol(item))
    needs = [naming.ERROR_CLASS, *(naming.model_symbol(name) for name in index.rule_entities(item))]
    return [produced], needs


# --- tests -------------------------------------------------------------------------


def tests(index: PlanIndex, subject: str, implements: Symbols) -> Contract:
    """A test module, one test per requirement, run against the app through the client."""
    needs = [naming.MAIN_APP, naming.TEST_CLIENT]
    if subject == "rules":
        module = naming.RULE_TESTS_MODULE
        needs += [naming.rule_symbol(item) for item in index.rules.values()]
    elif subject in index.entities:
        module = naming.entity_tests_module(subject)
        tested = [e for e in index.endpoints_of.get(subject, []) if e.id not in index.flow_of]
        needs += [naming.handler_symbol(item) for item in tested]
    else:
        item = index.flows[subject]
        module = naming.flow_tests_module(item)
        needs.append(naming.service_symbol(item))
        served = index.endpoint_of(item)
        needs += [naming.handler_symbol(served)] if served is not None else []
    symbols = list(dict.fromkeys(naming.test_symbol(module, req) for req in implements))
    return [file_of(module, *symbols)], needs


# --- the application shell and infrastructure -----------------------------------------


def app(index: PlanIndex, part: str, _: Symbols) -> Contract:
    if part == "database":
        symbols = (naming.DATABASE_BASE, naming.DATABASE_ENGINE, naming.DATABASE_SESSION)
        return [file_of("app.database", *symbols)], []
    if part == "errors":
        return [file_of("app.errors", naming.ERROR_CLASS, naming.ERROR_HANDLERS)], []
    routers = [naming.router_symbol(name) for name in index.known(set(index.endpoints_of))]
    packages = [ProducedFile(path="app/__init__.py")]
    packages += [ProducedFile(path=f"app/{name}/__init__.py") for name in app_packages(index)]
    main = file_of("app.main", naming.MAIN_APP)
    return [main, *packages], [naming.ERROR_HANDLERS, naming.DATABASE_ENGINE, *routers]


def app_packages(index: PlanIndex) -> list[str]:
    """The packages under `app/` this application has."""
    present = {"services": bool(index.flows), "rules": bool(index.rules)}
    return [name for name in naming.APP_PACKAGES if present.get(name, bool(index.entities))]


INFRA: dict[str, Contract] = {
    "requirements": (
        [ProducedFile(path="requirements.txt", symbols=[naming.REQUIREMENTS_FILE])],
        [],
    ),
    "dockerfile": (
        [ProducedFile(path="Dockerfile", symbols=[naming.DOCKERFILE])],
        [naming.REQUIREMENTS_FILE, naming.MAIN_APP],
    ),
    "compose": (
        [ProducedFile(path="compose.yaml", symbols=[naming.COMPOSE_FILE])],
        [naming.DOCKERFILE],
    ),
    "readme": ([ProducedFile(path="README.md", symbols=[naming.README_FILE])], [naming.MAIN_APP]),
    "conftest": (
        [
            ProducedFile(path="tests/__init__.py"),
            ProducedFile(path="tests/conftest.py", symbols=[naming.TEST_CLIENT]),
            ProducedFile(path="tests/factories.py"),
        ],
        [naming.MAIN_APP, naming.DATABASE_BASE, naming.DATABASE_SESSION],
    ),
}


def infra(index: PlanIndex, part: str, _: Symbols) -> Contract:
    produces, needs = INFRA[part]
    return [item.model_copy(deep=True) for item in produces], list(needs)


_CONTRACTS: dict[str, Callable[[PlanIndex, str, Symbols], Contract]] = {
    "model": model,
    "schemas": schemas,
    "repository": repository,
    "endpoint": endpoint,
    "flow": flow,
    "rule": rule,
    "tests": tests,
    "app": app,
    "infra": infra,
}
