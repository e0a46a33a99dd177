"""The Endpoints section: `- F2. GET /books: list books, filter by author, paginated`.

A line is `[ID.] METHOD /path[: summary, clause, clause...]` or `[ID.] CRUD /path`.
The path is resolved against the entities: `/members/{id}/loans` lists the Loan
records whose `member` is the member in the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from specloom.ir.api import Endpoint, EndpointKind, Ordering, PathParameter
from specloom.ir.domain import DomainModel, Entity
from specloom.ir.trusted import trusted
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.entities import split_top_level
from specloom.spec.names import (
    EntityNames,
    closest,
    did_you_mean,
    entity_aliases,
    find_entity,
    plural,
    singular,
    snake,
)
from specloom.spec.patterns import FirstCharacters
from specloom.spec.source import Span

REQUIREMENT_ID = re.compile(r"^\s*([A-Z]{1,4}\d+(?:\.\d+)*)[.:)]\s+")
_METHOD = re.compile(r"(GET|POST|PUT|PATCH|DELETE|CRUD)\s+(?=/)", re.IGNORECASE)
_PATH_STOP = re.compile(r"[\s:.]")  # where a path may end: see `split_line`
_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_FILTER = re.compile(r"^(?:filter(?:ed|able)?|filters?)\s+by\s+(.+)$", re.I)
_PAGINATED = re.compile(r"^paginated(?:\s*\(\s*page size\s+(\d+)\s*\))?$", re.I)
_PAGE_SIZE = re.compile(r"^page size\s+(\d+)$", re.I)
_ORDERED = re.compile(r"^(?:ordered|sorted)\s+by\s+(.+)$", re.I)
_UPDATE = re.compile(r"^(?:update|updates|change|edit)\s+(.+)$", re.I)
_EXCEPT = re.compile(r"^(?:except|without|no)\s+(.+)$", re.I)
_CRUD_KINDS: tuple[tuple[EndpointKind, str, bool], ...] = (
    ("create", "POST", False),
    ("list", "GET", False),
    ("get", "GET", True),
    ("update", "PATCH", True),
    ("delete", "DELETE", True),
)
_NAME_LIST = re.compile(r",|\band\b|\bor\b")
_FIELD_LIST = re.compile(r"[a-z_][a-z0-9_]*(?:\s*(?:,|\band\b)\s*[a-z_][a-z0-9_]*)*")
_CLAUSE_NAME = re.compile(
    r"-?([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|ascending|desc|descending)\b)?", re.I
)
_ONE_NAME = r"-?[a-z_][a-z0-9_]*(?:\s+(?:asc|ascending|desc|descending))?"
_CONTINUATION = re.compile(rf"(?:and\s+)?{_ONE_NAME}(?:\s+and\s+{_ONE_NAME})*", re.I)
# what each clause pattern's matches start with (see FirstCharacters)
_CLAUSES = FirstCharacters(
    {
        "filter": "f",
        "paginated": "p",
        "page size": "p",
        "ordered": "os",
        "except": "ewn",
        "update": "uce",
    }
)


@dataclass(slots=True)
class ResolvedPath:
    kind_hint: str  # "collection", "item" or "action"
    entity: str
    target: str | None
    parent: str | None
    parent_field: str | None
    parameters: list[PathParameter]


def _crud_summary(kind: str, entity: str) -> str:
    words = snake(entity).replace("_", " ")
    if kind == "list":
        return f"list {plural(words)}"
    article = "an" if words[:1] in "aeiou" else "a"
    return f"{kind} {article} {words}"


class LineParts(NamedTuple):
    """`METHOD /path: rest.` taken apart; `rest` is None without a colon, and starts at
    `rest_start`."""

    method: str
    path: str
    path_start: int
    rest: str | None
    rest_start: int


def _ends_line(text: str, index: int) -> bool:
    """Is `text[index:]` at most a full stop and blanks?"""
    tail = text[index + 1 :] if text.startswith(".", index) else text[index:]
    return not tail or tail.isspace()


def split_line(text: str) -> LineParts | None:
    """Read `METHOD /path[: rest][.]` (one line, no newline): the path is the shortest run
    of non-blank characters the line can end after, either with a colon, blanks and the
    rest (its last full stop and blanks left out), or with a colon, or with nothing, a
    full stop and blanks allowed at the end. A scan from one possible end of the path
    to the next (a blank, ':' or '.'), not a regular expression that backtracks at every
    character."""
    found = _METHOD.match(text)
    if found is None:
        return None
    method, path_start, size = found.group(1), found.end(), len(text)
    index = path_start + 1  # the path is at least '/'
    while True:
        stop = _PATH_STOP.search(text, index)
        index = size if stop is None else stop.start()
        char = text[index] if index < size else ""
        path = text[path_start:index]
        if char == ":" and index + 1 < size and text[index + 1].isspace():
            rest_start = index + 1
            while rest_start < size and text[rest_start].isspace():
                rest_start += 1
            rest = text[rest_start:].rstrip()
            rest = rest[:-1] if rest.endswith(".") else rest
            return LineParts(method, path, path_start, rest, rest_start)
        if _ends_line(text, index + 1 if char == ":" else index):
            return LineParts(method, path, path_start, None, size)
        if not char or char.isspace():
            return None
        index += 1


def names_in(text: str) -> list[str]:
    return [name.strip() for name in _NAME_LIST.split(text) if name.strip()]


class EndpointParser:
    """Compiles endpoint lines; needs the entities, so it runs after the Entities section."""

    def __init__(self, sink: DiagnosticSink, domain: DomainModel) -> None:
        self.sink = sink
        self.domain = domain
        self.names = EntityNames(entity.name for entity in domain.entities)
        self._found: dict[str, str | None] = {}  # find_entity by path word, for this spec
        self._referrers_by_target: dict[str, list[str]] | None = None

    def line(self, span: Span) -> list[Endpoint]:
        text = span.text.replace("\n", " ")  # a wrapped line reads as one; offsets stay
        endpoint_id = ""
        id_match = REQUIREMENT_ID.match(text)
        body_start = 0
        if id_match:
            endpoint_id = id_match.group(1)
            body_start = id_match.end()
        parts = split_line(text[body_start:])
        if parts is None:
            self.sink.add(
                "SL301",
                "an endpoint reads 'F1. METHOD /path: what it does', for example "
                "'F2. GET /books: list books, filter by author, paginated', or 'F1. CRUD /books'",
                span.range(),
            )
            return []
        method = parts.method.upper()
        path = parts.path.rstrip(":")
        path_start = body_start + parts.path_start
        rest = parts.rest or ""
        rest_start = body_start + parts.rest_start if parts.rest else len(text)
        resolved = self.resolve_path(path, span, path_start)
        if resolved is None or self.misspelt_listing(method, resolved, path, span, path_start):
            return []
        explicit = bool(endpoint_id)
        if method == "CRUD":
            return self.crud(span, endpoint_id, path, resolved, rest, rest_start)
        kind = self.kind(method, resolved, span, path_start, len(path))
        if kind is None:
            return []
        endpoint = trusted[Endpoint](
            id=endpoint_id or f"{method} {path}",
            explicit_id=explicit,
            method=method,
            path=path,
            kind=kind,
            entity=resolved.entity,
            target=resolved.target,
            parent=resolved.parent,
            parent_field=resolved.parent_field,
            parameters=resolved.parameters,
            range=span.range(),
        )
        self.clauses(endpoint, span, rest, rest_start)
        return [endpoint]

    def crud(
        self,
        span: Span,
        endpoint_id: str,
        path: str,
        resolved: ResolvedPath,
        rest: str,
        rest_start: int,
    ) -> list[Endpoint]:
        if resolved.kind_hint != "collection" or resolved.parent is not None:
            self.sink.add(
                "SL303",
                "CRUD takes a top-level collection path such as '/books'; write nested "
                "endpoints one per line",
                span.range(),
            )
            return []
        group = endpoint_id or f"CRUD {path}"
        template = trusted[Endpoint](
            id=group, method="GET", path=path, kind="list", entity=resolved.entity
        )
        self.clauses(template, span, rest, rest_start, crud=True)
        excluded = set(template.updatable) & {kind for kind, _, _ in _CRUD_KINDS}
        endpoints: list[Endpoint] = []
        for kind, method, on_item in _CRUD_KINDS:
            if kind in excluded:
                continue
            item_path = f"{path.rstrip('/')}/{{id}}" if on_item else path
            parameters = (
                [trusted[PathParameter](name="id", entity=resolved.entity, range=span.range())]
                if on_item
                else []
            )
            endpoints.append(
                trusted[Endpoint](
                    id=f"{group}.{kind}",
                    explicit_id=bool(endpoint_id),
                    method=method,
                    path=item_path,
                    kind=kind,
                    summary=_crud_summary(kind, resolved.entity),
                    entity=resolved.entity,
                    target=resolved.entity if on_item else None,
                    parameters=parameters,
                    filters=template.filters if kind == "list" else [],
                    paginated=kind == "list",
                    page_size=template.page_size,
                    ordering=template.ordering if kind == "list" else [],
                    crud_group=group,
                    range=span.range(),
                )
            )
        return endpoints

    # --- paths ----------------------------------------------------------------

    def resolve_path(self, path: str, span: Span, path_start: int) -> ResolvedPath | None:
        stripped = path.strip("/")
        segments = stripped.split("/") if stripped else []

        def fail(code: str, message: str, index: int | None = None) -> None:
            if index is None:
                self.sink.add(code, message, span.range(path_start, path_start + len(path)))
            else:
                # where the segment starts, counted only for a path that fails
                start = path_start + 1 + sum(len(segment) + 1 for segment in segments[:index])
                self.sink.add(code, message, span.range(start, start + len(segments[index])))

        if not segments:
            fail("SL302", "the path names no collection: start it with one, as in '/books'")
            return None
        current: Entity | None = None
        on_item = False
        parent: str | None = None
        parent_field: str | None = None
        target: str | None = None
        parameters: list[PathParameter] = []
        seen: set[str] = set()
        for index, segment in enumerate(segments):
            param = _PARAM.match(segment) if "{" in segment else None
            if param:
                name = param.group(1)
                if current is None or on_item:
                    fail(
                        "SL303",
                        f"'{{{name}}}' must follow a collection, as in '/books/{{id}}'",
                        index,
                    )
                    return None
                if name in seen:
                    fail("SL303", f"the path names '{{{name}}}' twice: give each a name", index)
                    return None
                if name != "id" and name not in {
                    f"{alias}_id" for alias in entity_aliases(current.name)
                }:
                    fail(
                        "SL303",
                        f"'{{{name}}}' does not name the id of {current.name}: write '{{id}}' or "
                        f"'{{{snake(current.name)}_id}}'",
                        index,
                    )
                    return None
                seen.add(name)
                parameters.append(trusted[PathParameter](name=name, entity=current.name))
                target = current.name
                on_item = True
                continue
            if not _SEGMENT.match(segment):
                fail(
                    "SL303",
                    f"'{segment}' is not a path segment: use lower-case words, digits, '-' and "
                    "'_', and '{name}' for parameters"
                    + (f" (write '{{{segment[1:]}}}')" if segment.startswith(":") else ""),
                    index,
                )
                return None
            if current is None:
                name = self.entity_named(segment.replace("-", "_"))
                if name is None:
                    fail(
                        "SL302",
                        f"'/{segment}' names no entity{did_you_mean(segment, self._plurals())}; "
                        "a path starts with an entity's plural, as in '/books'",
                        index,
                    )
                    return None
                current = self.domain.entity(name)
                continue
            if not on_item:
                fail(
                    "SL302",
                    f"'{segment}' follows a collection: put a parameter between them, as in "
                    "'/orders/{id}/lines'",
                    index,
                )
                return None
            child = self.child_collection(current, segment)
            if child is not None:
                child_entity = self.domain.entity(child[0])
                if child_entity is None:
                    fail(
                        "SL302",
                        f"'{segment}' is a collection of {child[0]}, which is not an entity of "
                        f"this spec: define '### {child[0]}' under Entities",
                        index,
                    )
                    return None
                parent, parent_field = current.name, child[1]
                current = child_entity
                on_item = False
                continue
            named = self.entity_named(segment.replace("-", "_"))
            if named is not None:
                links = self.links(named, current.name)
                how = "through several fields" if links else "not at all"
                fail(
                    "SL302",
                    f"{named} refers to {current.name} {how}, so '{segment}' cannot list them: "
                    f"declare a collection on {current.name}, as in "
                    f"'{segment}: list of {named} via <field>', and name it in the path",
                    index,
                )
                return None
            if index != len(segments) - 1:
                fail(
                    "SL302",
                    f"'{segment}' is neither a collection of {current.name} nor an entity "
                    f"that refers to it{did_you_mean(segment, self._children(current))}",
                    index,
                )
                return None
            return ResolvedPath("action", current.name, target, parent, parent_field, parameters)
        assert current is not None
        hint = "item" if on_item else "collection"
        if not on_item:
            target = parent if parent is not None else None
        return ResolvedPath(hint, current.name, target, parent, parent_field, parameters)

    def misspelt_listing(
        self, method: str, resolved: ResolvedPath, path: str, span: Span, path_start: int
    ) -> bool:
        """`GET /customers/{id}/ordrs` reads as an action named 'ordrs'; a GET whose last
        word is close to what the record holds is more likely a typo. Reports it."""
        if method != "GET" or resolved.kind_hint != "action":
            return False
        entity = self.domain.entity(resolved.entity)
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        if entity is None:
            return False
        near = closest(segment, self._children(entity) + self._referrers(entity))
        if near is None:
            return False
        start = path_start + path.rstrip("/").rfind("/") + 1
        self.sink.add(
            "SL302",
            f"'{segment}' names neither an action nor a collection of {entity.name}; "
            f"did you mean '{near}'?",
            span.range(start, start + len(segment)),
        )
        return True

    def child_collection(self, parent: Entity, segment: str) -> tuple[str, str] | None:
        """(child entity, link) for `/parents/{id}/<segment>`: a collection field of the
        parent (link is that field), or an entity with one reference to the parent
        (link is the child's reference field)."""
        key = segment.replace("-", "_")
        names = (key, singular(key))
        for field in parent.fields:
            if field.type.kind == "collection" and field.name in names:
                return str(field.type.entity), field.name
        name = self.entity_named(key)
        if name is None:
            return None
        links = self.links(name, parent.name)
        if len(links) == 1:
            return name, links[0]
        return None

    def links(self, child_name: str, parent_name: str) -> list[str]:
        """The reference fields of `child_name` that point at `parent_name`."""
        child = self.domain.entity(child_name)
        if child is None:
            return []
        return [
            field.name
            for field in child.fields
            if field.type.kind == "reference" and field.type.entity == parent_name
        ]

    def entity_named(self, word: str) -> str | None:
        """The entity a path word names (the same words come back line after line)."""
        if word in self._found:
            return self._found[word]
        found = self._found[word] = find_entity(word, self.names)
        return found

    def _plurals(self) -> list[str]:
        return self.names.aliases()

    def _referrers(self, entity: Entity) -> list[str]:
        """Path names of the entities that refer to `entity`: what a nested path under
        it could list."""
        if self._referrers_by_target is None:
            self._referrers_by_target = {}
            for other in self.domain.entities:
                for field in other.fields:
                    if field.type.kind == "reference" and field.type.entity:
                        aliases = self._referrers_by_target.setdefault(field.type.entity, [])
                        aliases.extend(sorted(entity_aliases(other.name)))
        return self._referrers_by_target.get(entity.name, [])

    def _children(self, entity: Entity) -> list[str]:
        return [f.name for f in entity.fields if f.type.kind == "collection"]

    def kind(
        self, method: str, resolved: ResolvedPath, span: Span, start: int, length: int
    ) -> EndpointKind | None:
        if resolved.kind_hint == "action":
            return "action"
        if resolved.kind_hint == "collection":
            table: dict[str, EndpointKind] = {"POST": "create", "GET": "list"}
            if resolved.parent is not None:
                table["DELETE"] = "delete_children"
        else:
            table = {"GET": "get", "PATCH": "update", "PUT": "update", "DELETE": "delete"}
        if method in table:
            return table[method]
        shape = "a collection" if resolved.kind_hint == "collection" else "one record"
        self.sink.add(
            "SL301",
            f"{method} on {shape} has no meaning here: use "
            + ", ".join(sorted(table))
            + ", or name an action as in 'POST /members/{id}/suspend'",
            span.range(start, start + length),
        )
        return None

    # --- clauses --------------------------------------------------------------

    def clauses(
        self, endpoint: Endpoint, span: Span, rest: str, rest_start: int, crud: bool = False
    ) -> None:
        """Read the clauses after the colon. A clause that takes a list of fields (update,
        filter by, ordered by, except) goes on over the parts after it that are only
        field names: 'filter by sku, batch'."""
        summary_taken = crud
        continuing: str | None = None
        for start, end in split_top_level(rest):
            raw = rest[start:end]
            text = raw.strip()
            if not text:
                continue
            offset = rest_start + start + (len(raw) - len(raw.lstrip()))
            tried = _CLAUSES.of(text)
            paginated = _PAGINATED.match(text) if "paginated" in tried else None
            if continuing and _CONTINUATION.fullmatch(text) and not paginated:
                self.add_names(endpoint, continuing, span, offset, text)
                continue
            continuing = None
            if "filter" in tried and (match := _FILTER.match(text)):
                continuing = "filter"
                self.add_names(endpoint, continuing, span, offset + match.start(1), match.group(1))
            elif paginated is not None:
                endpoint.paginated = True
                if paginated.group(1):
                    endpoint.page_size = int(paginated.group(1))
            elif "page size" in tried and (match := _PAGE_SIZE.match(text)):
                endpoint.paginated = True
                endpoint.page_size = int(match.group(1))
            elif "ordered" in tried and (match := _ORDERED.match(text)):
                continuing = "order"
                self.add_names(endpoint, continuing, span, offset + match.start(1), match.group(1))
            elif crud and "except" in tried and (match := _EXCEPT.match(text)):
                continuing = "except"
                self.add_names(endpoint, continuing, span, offset + match.start(1), match.group(1))
            elif not summary_taken:
                summary_taken = True
                endpoint.summary = text
                update = _UPDATE.match(text) if "update" in tried else None
                if endpoint.kind == "update" and update and _FIELD_LIST.fullmatch(update.group(1)):
                    continuing = "update"
                    self.add_names(
                        endpoint, continuing, span, offset + update.start(1), update.group(1)
                    )
            else:
                self.sink.add(
                    "SL307",
                    f"'{text}' is not an endpoint clause the compiler knows: use 'filter by "
                    "<fields>', 'paginated (page size N)', 'ordered by <field> [descending]'",
                    span.range(offset, offset + len(text)),
                )
        if endpoint.kind == "list":
            endpoint.paginated = True

    def add_names(
        self, endpoint: Endpoint, clause: str, span: Span, offset: int, text: str
    ) -> None:
        """Add the field names of a list clause, each checked against the entity."""
        entity = self.domain.entity(endpoint.entity)
        for match in _CLAUSE_NAME.finditer(text):
            name = match.group(1)
            if name.lower() in ("and", "or"):
                continue
            if clause == "except":
                endpoint.updatable.append(name)
                continue
            if entity is not None and not self.has_field(entity, name):
                names = [f.name for f in entity.fields if f.type.kind != "collection"]
                verb = {"filter": "filter by", "update": "update", "order": "order by"}[clause]
                self.sink.add(
                    "SL305",
                    f"cannot {verb} '{name}': {entity.name} has no such field"
                    f"{did_you_mean(name, names)}",
                    span.range(offset + match.start(1), offset + match.end(1)),
                )
                continue
            if clause == "filter":
                endpoint.filters.append(name)
            elif clause == "update":
                endpoint.updatable.append(name)
            else:
                direction = (match.group(2) or "").lower()
                endpoint.ordering.append(
                    trusted[Ordering](
                        field=name,
                        descending=direction.startswith("desc") or match.group(0).startswith("-"),
                        range=span.range(offset + match.start(), offset + match.end()),
                    )
                )

    @staticmethod
    def has_field(entity: Entity, name: str) -> bool:
        field = entity.field(name)
        if field is None and name.endswith("_id"):
            field = entity.field(name[:-3])
        return field is not None and field.type.kind != "collection"
