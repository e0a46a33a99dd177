"""Well-formed requests for every operation of a generated app, built from its OpenAPI
document: the creates first, in an order that satisfies their references, then the
other operations, deletes last. Path parameters and `<name>_id` fields carry the id of
a record made earlier in the same check where there is one (else 1); JSON bodies have
every required property, with a value its schema accepts; query parameters are left
out unless required.

The IR, when given (`hints_from_ir`), says which entity each operation creates, which
entity each path parameter and each reference field points at, and the requirement of
each endpoint; without it the OpenAPI document is read alone (`<Entity>Read`
responses, `<entity>_id` fields)."""

from __future__ import annotations

import importlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from specloom.ir.application import ApplicationIR

METHODS = ("get", "post", "put", "patch", "delete")
_PARAMETER = re.compile(r"\{[^}]*\}")
_KIND_ORDER = {
    "create": 0,
    "get": 1,
    "list": 2,
    "update": 3,
    "action": 4,
    "other": 5,
    "delete_children": 6,
    "delete": 7,
}


def route_key(method: str, path: str) -> tuple[str, str]:
    """`("GET", "/books/{}")`: a method and path with the parameters' names left out, so
    `{id}` and `{book_id}` compare equal."""
    return method.upper(), _PARAMETER.sub("{}", path.rstrip("/") or "/")


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@dataclass(frozen=True)
class EndpointHint:
    """What the IR says about one endpoint."""

    requirement_id: str
    kind: str
    entity: str
    path_entities: tuple[str, ...] = ()  # the entity of each path parameter, in order
    references: tuple[tuple[str, str], ...] = ()  # (JSON name, entity) of the body's ids


@dataclass
class Hints:
    endpoints: dict[tuple[str, str], EndpointHint] = field(default_factory=dict)

    def of(self, method: str, path: str) -> EndpointHint | None:
        return self.endpoints.get(route_key(method, path))


def hints_from_ir(ir: ApplicationIR | None) -> Hints:
    hints = Hints()
    if ir is None:
        return hints
    flows = {flow.id: flow for flow in ir.behaviour.flows}
    for endpoint in ir.api.endpoints:
        references: dict[str, str] = {}
        entity = ir.domain.entity(endpoint.entity)
        if entity is not None:
            for entity_field in entity.fields:
                if entity_field.type.kind == "reference" and entity_field.type.entity:
                    references[entity_field.json_name] = entity_field.type.entity
        flow = flows.get(endpoint.flow or "")
        if flow is not None:
            for flow_input in flow.inputs:
                if flow_input.reference:
                    references[flow_input.name] = flow_input.reference
        hints.endpoints[route_key(endpoint.method, endpoint.path)] = EndpointHint(
            requirement_id=endpoint.id,
            kind=endpoint.kind,
            entity=endpoint.entity,
            path_entities=tuple(parameter.entity for parameter in endpoint.parameters),
            references=tuple(sorted(references.items())),
        )
    return hints


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document, with what the check needs to call it."""

    method: str  # upper case
    path: str  # the OpenAPI template: /books/{id}
    parameters: tuple[str, ...]  # path parameters, in path order
    required_query: tuple[tuple[str, dict[str, Any]], ...]  # (name, schema)
    body: dict[str, Any] | None  # the JSON request body's schema, references resolved
    kind: str  # create, get, list, update, delete, delete_children, action, other
    entity: str  # the entity it reads or writes ("" when unknown)
    requirement_id: str = ""
    path_entities: tuple[str, ...] = ()
    references: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Request:
    method: str
    url: str  # the path with its parameters filled in
    json: Any = None
    has_body: bool = False
    params: dict[str, Any] = field(default_factory=dict)


class OpenApi:
    """An OpenAPI document: its operations, and `$ref`s resolved."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """The schema behind `$ref`s (one level at a time, guarding against loops)."""
        while isinstance(schema, dict) and "$ref" in schema and depth < 32:
            reference = str(schema["$ref"])
            target: Any = self.document
            for part in reference.removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = target
            depth += 1
        return schema if isinstance(schema, dict) else {}

    def operations(self, hints: Hints | None = None) -> list[Operation]:
        hints = hints or Hints()
        found: list[Operation] = []
        for path, item in (self.document.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            shared = list(item.get("parameters") or [])
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                found.append(self._operation(method.upper(), path, operation, shared, hints))
        return found

    def _operation(
        self,
        method: str,
        path: str,
        operation: dict[str, Any],
        shared: list[Any],
        hints: Hints,
    ) -> Operation:
        parameters = [self.resolve(p) for p in [*shared, *(operation.get("parameters") or [])]]
        ordered = tuple(m.group(0)[1:-1] for m in _PARAMETER.finditer(path))
        query = tuple(
            (str(p.get("name")), self.resolve(p.get("schema") or {}))
            for p in parameters
            if p.get("in") == "query" and p.get("required")
        )
        body_schema: dict[str, Any] | None = None
        request_body = self.resolve(operation.get("requestBody") or {})
        content = request_body.get("content") or {}
        if isinstance(content, dict) and "application/json" in content:
            body_schema = self.resolve((content["application/json"] or {}).get("schema") or {})
        hint = hints.of(method, path)
        if hint is not None:
            kind, entity = hint.kind, hint.entity
        else:
            kind, entity = self._guess(method, path, operation)
        return Operation(
            method=method,
            path=path,
            parameters=ordered,
            required_query=query,
            body=body_schema,
            kind=kind,
            entity=entity,
            requirement_id=hint.requirement_id if hint is not None else "",
            path_entities=hint.path_entities if hint is not None else (),
            references=hint.references if hint is not None else (),
        )

    def _guess(self, method: str, path: str, operation: dict[str, Any]) -> tuple[str, str]:
        """The kind and entity of an operation the IR does not know, from its responses."""
        responses = operation.get("responses") or {}
        entity = ""
        for status in sorted(responses):
            content = (self.resolve(responses[status]).get("content") or {}).get(
                "application/json"
            ) or {}
            reference = str((content.get("schema") or {}).get("$ref", ""))
            name = reference.rsplit("/", 1)[-1]
            if name.endswith("Read"):
                entity = name.removesuffix("Read")
                break
        if method == "POST" and "201" in responses:
            return "create", entity
        if method == "DELETE":
            return "delete", entity
        if method in ("PATCH", "PUT"):
            return "update", entity
        if method == "GET":
            return ("get" if path.rstrip("/").endswith("}") else "list"), entity
        return "other", entity


def order(operations: list[Operation]) -> list[Operation]:
    """Creates first, each after the creates of the entities it needs (path parameters
    and required references), then reads, updates, actions, and deletes last."""
    creates = [op for op in operations if op.kind == "create"]
    creatable = {op.entity for op in creates if op.entity}
    placed: list[Operation] = []
    made: set[str] = set()
    waiting = list(creates)
    while waiting:
        ready = next(
            (op for op in waiting if not (needs(op) & creatable) - made - {op.entity}),
            waiting[0],  # a cycle of required references: go on anyway
        )
        waiting.remove(ready)
        placed.append(ready)
        made.add(ready.entity)
    made_order = {entity: index for index, entity in enumerate(op.entity for op in placed)}

    def rank(op: Operation) -> tuple[int, int]:
        # deletes of the records made last first: children before their parents
        later = -made_order.get(op.entity, -1) if op.kind.startswith("delete") else 0
        return _KIND_ORDER.get(op.kind, _KIND_ORDER["other"]), later

    rest = sorted((op for op in operations if op.kind != "create"), key=rank)
    return placed + rest


def needs(operation: Operation) -> set[str]:
    """The entities an operation needs records of: its path's and its required references'."""
    found = {entity for entity in operation.path_entities if entity}
    required = set((operation.body or {}).get("required") or [])
    for name, entity in operation.references:
        if name in required:
            found.add(entity)
    return found


class RequestBuilder:
    """Fills in requests, remembering the ids of the records the check creates."""

    def __init__(self, api: OpenApi) -> None:
        self.api = api
        self.created: dict[str, Any] = {}  # snake-case entity name -> id of a record
        self.counter = 0

    def remember(self, operation: Operation, status: int, answer: Any) -> None:
        """Keep the id of a record a create made."""
        if operation.kind != "create" or not 200 <= status < 300 or not isinstance(answer, dict):
            return
        record_id = answer.get("id")
        if record_id is not None and operation.entity:
            self.created.setdefault(snake(operation.entity), record_id)

    def id_of(self, entity: str) -> Any:
        return self.created.get(snake(entity), 1) if entity else 1

    def build(self, operation: Operation) -> Request:
        self.counter += 1
        url = operation.path
        for index, name in enumerate(operation.parameters):
            entity = operation.path_entities[index] if index < len(operation.path_entities) else ""
            if not entity:
                entity = self._entity_of_segment(operation.path, name)
            url = url.replace("{" + name + "}", str(self.id_of(entity)), 1)
        params = {
            name: sample(schema, self.api, name=name, ordinal=self.counter)
            for name, schema in operation.required_query
        }
        if operation.body is None:
            return Request(operation.method, url, params=params)
        references = dict(operation.references)
        body = sample(
            operation.body,
            self.api,
            ordinal=self.counter,
            ids=lambda name: self._reference(name, references),
        )
        return Request(operation.method, url, json=body, has_body=True, params=params)

    def _reference(self, name: str, references: dict[str, str]) -> Any:
        entity = references.get(name)
        if entity:
            return self.id_of(entity)
        stem = snake(name.removesuffix("_id"))
        for known, record_id in self.created.items():
            if known == stem or known.endswith("_" + stem):
                return record_id
        return 1

    def _entity_of_segment(self, path: str, parameter: str) -> str:
        """The entity of `{parameter}` without the IR: the create of the collection before
        it (`/books/{id}` -> what `POST /books` creates)."""
        head = path.split("{" + parameter + "}", 1)[0].rstrip("/")
        for operation in self.api.operations():
            if operation.kind == "create" and operation.path.rstrip("/") == head:
                return operation.entity
        return ""


# --- values -----------------------------------------------------------------------------


def sample(
    schema: Any,
    api: OpenApi,
    *,
    name: str = "",
    ordinal: int = 1,
    ids: Any = None,
    depth: int = 0,
) -> Any:
    """A value `schema` accepts: required properties only, within every constraint that is
    simple to meet. `ids(name)` gives the value of a `<name>_id` property."""
    schema = api.resolve(schema)
    if depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        options = [api.resolve(option) for option in schema.get(combinator) or []]
        if options:
            chosen = [o for o in options if o.get("type") != "null"] or options
            if _is_decimal(chosen):
                return _decimal(chosen[0])
            return sample(chosen[0], api, name=name, ordinal=ordinal, ids=ids, depth=depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(api.resolve(part))
        return sample(merged, api, name=name, ordinal=ordinal, ids=ids, depth=depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        properties = schema.get("properties") or {}
        value: dict[str, Any] = {}
        for index, key in enumerate(schema.get("required") or []):
            if key.endswith("_id") and ids is not None:
                value[key] = ids(key)
                continue
            # each property its own ordinal: a later time field is later (begins < ends)
            value[key] = sample(
                properties.get(key, {}),
                api,
                name=key,
                ordinal=ordinal * 10 + index,
                ids=ids,
                depth=depth + 1,
            )
        return value
    if kind == "array":
        count = int(schema.get("minItems") or 0)
        item = schema.get("items") or {}
        return [
            sample(item, api, name=name, ordinal=ordinal + i, ids=ids, depth=depth + 1)
            for i in range(count)
        ]
    if kind == "integer":
        if name.endswith("_id") and ids is not None:
            return ids(name)
        return int(_number(schema, 1))
    if kind == "number":
        return _number(schema, 1)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name, ordinal)


def _is_decimal(options: list[dict[str, Any]]) -> bool:
    """pydantic's decimal: a number or a string (the API's decimals travel as strings)."""
    kinds = [o.get("type") for o in options]
    return kinds[:2] == ["number", "string"] and "format" not in options[1]


def _decimal(schema: dict[str, Any]) -> str:
    value = _number(schema, 1)
    return str(int(value)) if float(value).is_integer() else str(value)


def _number(schema: dict[str, Any], preferred: float) -> float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    exclusive_low = schema.get("exclusiveMinimum")
    exclusive_high = schema.get("exclusiveMaximum")
    value = float(preferred)
    if low is not None:
        value = max(value, float(low))
    if exclusive_low is not None and value <= float(exclusive_low):
        value = float(exclusive_low) + 1
    if high is not None and value > float(high):
        value = float(high)
    if exclusive_high is not None and value >= float(exclusive_high):
        value = float(exclusive_high) - 1
    if low is not None and exclusive_high is not None and value < float(low):
        value = (float(low) + float(exclusive_high)) / 2
    multiple = schema.get("multipleOf")
    if multiple:
        value = round(value / float(multiple)) * float(multiple)
    return int(value) if value.is_integer() else value


def _string(schema: dict[str, Any], name: str, ordinal: int) -> str:
    fmt = schema.get("format", "")
    today = datetime.now(UTC).date()
    if fmt == "date":
        return (today + timedelta(days=14 + ordinal)).isoformat()
    if fmt == "date-time":
        moment = datetime.now(UTC).replace(microsecond=0, second=0, minute=0)
        moment += timedelta(days=14, hours=ordinal)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "time":
        return "12:00:00"
    if fmt == "email":
        return f"user{ordinal}@example.com"
    if fmt == "uuid":
        return str(uuid.UUID(int=ordinal, version=4))
    if fmt in ("uri", "url") or name.endswith("url"):
        return f"https://example.com/{ordinal}"
    if fmt == "duration":
        return "P1D"
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        made = from_pattern(pattern, ordinal)
        if made is not None:
            return made
    low = int(schema.get("minLength") or 0)
    high = schema.get("maxLength")
    text = f"sample {name or 'text'} {ordinal}"
    if high is not None and len(text) > int(high):
        text = f"s{ordinal}"[: int(high)]
    return text + "x" * max(0, low - len(text))


# --- strings from regular expressions ---------------------------------------------------

_DIGITS = "0123456789"
_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def from_pattern(pattern: str, ordinal: int = 1) -> str | None:
    """A string `re.search(pattern, ...)` accepts, for the simple patterns specs use
    (literals, classes, repeats, groups, alternatives); None for the others."""
    try:
        parser: Any = importlib.import_module("re._parser")
        tree = parser.parse(pattern)
        constants: Any = importlib.import_module("re._constants")
        made = _render(list(tree), constants, ordinal)
    except Exception:
        return None
    if made is None or re.search(pattern, made) is None:
        return None
    return made


def _render(items: list[Any], c: Any, ordinal: int) -> str | None:
    out: list[str] = []
    for op, argument in items:
        if op == c.LITERAL:
            out.append(chr(argument))
        elif op == c.ANY:
            out.append("x")
        elif op == c.AT:
            continue
        elif op == c.IN:
            chosen = _pick(argument, c, ordinal + len(out))
            if chosen is None:
                return None
            out.append(chosen)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, body = argument
            count = low if low > 0 else (1 if high is None or high >= 1 else 0)
            for _ in range(count):
                piece = _render(list(body), c, ordinal + len(out))
                if piece is None:
                    return None
                out.append(piece)
        elif op == c.SUBPATTERN:
            piece = _render(list(argument[-1]), c, ordinal)
            if piece is None:
                return None
            out.append(piece)
        elif op == c.BRANCH:
            piece = _render(list(argument[1][0]), c, ordinal)
            if piece is None:
                return None
            out.append(piece)
        else:
            return None
    return "".join(out)


def _pick(members: list[Any], c: Any, ordinal: int) -> str | None:
    """One character of a class `[...]`, varied by `ordinal` within its first range."""
    if members and members[0][0] == c.NEGATE:
        excluded = members[1:]
        for candidate in "x0aZ_-":
            if not any(_holds(member, candidate, c) for member in excluded):
                return candidate
        return None
    for op, argument in members:
        if op == c.LITERAL:
            return chr(argument)
        if op == c.RANGE:
            low, high = argument
            return chr(low + ordinal % (high - low + 1))
        if op == c.CATEGORY:
            if argument == c.CATEGORY_DIGIT:
                return _DIGITS[ordinal % 10]
            if argument == c.CATEGORY_WORD:
                return _WORD[ordinal % 26]
            if argument == c.CATEGORY_SPACE:
                return " "
            if argument == c.CATEGORY_NOT_SPACE:
                return "x"
            if argument == c.CATEGORY_NOT_DIGIT:
                return "x"
            return None
    return None


def _holds(member: tuple[Any, Any], char: str, c: Any) -> bool:
    op, argument = member
    if op == c.LITERAL:
        return bool(ord(char) == argument)
    if op == c.RANGE:
        return bool(argument[0] <= ord(char) <= argument[1])
    if op == c.CATEGORY:
        return True  # be safe: treat every category as excluding the candidate
    return True
