"""Tests of an entity's plain endpoints (those without a flow): create, list (paging,
filters, order), get, update, delete and delete every child, each with its 404."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import partial
from typing import Any

from specloom.codegen import messages
from specloom.codegen.schemas import parent_link
from specloom.codegen.testgen.arrange import Arrangement
from specloom.codegen.testgen.emit import UNKNOWN_ID, Case, CaseWriter, Request
from specloom.codegen.testgen.entitycases import EntityCases, field_by_name
from specloom.codegen.testgen.guarded import attempt
from specloom.codegen.testgen.pysrc import Clock, Module, comment_lines, json_value, py_string
from specloom.codegen.testgen.values import sample
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.api import Endpoint
from specloom.ir.domain import Field

Planned = tuple[str, str, str, list[str]]  # (requirement, stem, summary, lines)
LISTED = 3


class EndpointTests:
    def __init__(self, cases: EntityCases, module: Module) -> None:
        self.cases = cases
        self.ir = cases.ir
        self.entity = cases.entity
        self.module = module
        policy = self.ir.validation.error_policy
        self.not_found = policy.status_for("not_found")
        self.conflict = policy.status_for("conflict")
        self.tests: list[Planned] = []
        self.notes: list[str] = []

    def writer(self, case: Case) -> CaseWriter:
        return CaseWriter(self.ir, self.module, case)

    def add(self, endpoint: Endpoint, stem: str, summary: str, lines: list[str]) -> None:
        self.tests.append(
            (
                endpoint.id,
                stem,
                f"{endpoint.id} {endpoint.method} {endpoint.path}: {summary}",
                lines,
            )
        )

    def plan(self) -> list[Planned]:
        for endpoint in self.cases.plain:
            handler = getattr(self, f"test_{endpoint.kind}", None)
            if handler is not None:
                attempt(self.notes, endpoint.id, partial(handler, endpoint))
        return self.tests

    def unknown(self, endpoint: Endpoint, case: Case) -> None:
        """404 for each unknown id in the path, and nothing changes."""
        for parameter in endpoint.parameters:
            message = messages.not_found(parameter.entity, UNKNOWN_ID)
            lines = self.writer(case).refused(
                self.not_found, message, Request(unknown_param=parameter.name)
            )
            what = f"an unknown {parameter.entity}"
            self.add(endpoint, f"answers_404_for_{_words(what)}", f"404 for {what}", lines)

    # --- kinds -----------------------------------------------------------------------------

    def test_create(self, endpoint: Endpoint) -> None:
        _, case = self.cases.create_case(endpoint)
        lines = self.writer(case).lines()
        self.add(
            endpoint,
            f"creates_a_{_words(self.entity.name)}",
            "answers 201 with the record, defaults filled",
            lines,
        )
        if endpoint.parameters:
            self.unknown(endpoint, case)

    def test_get(self, endpoint: Endpoint) -> None:
        case = self.cases.get_case(endpoint)
        self.add(
            endpoint,
            f"gets_a_{_words(self.entity.name)}",
            "answers 200 with the record",
            self.writer(case).lines(),
        )
        self.unknown(endpoint, case)

    def test_update(self, endpoint: Endpoint) -> None:
        case = self.cases.update_case(endpoint)
        if case is None:
            note = f"{endpoint.id}: no field of {self.entity.name} can be changed by it."
            self.module.blocks.append("\n".join(comment_lines(note)))
            return
        whole = {case.params[-1]} if case.params else None
        lines = self.writer(case).lines(whole=whole)
        self.add(
            endpoint,
            "changes_only_the_fields_sent",
            "answers 200; only the fields sent change",
            lines,
        )
        self.unknown(endpoint, case)

    def test_delete(self, endpoint: Endpoint) -> None:
        case = self.cases.delete_case(endpoint)
        writer = self.writer(case)
        get = self.cases.endpoint("get")
        follow = get is not None and len(get.parameters) == len(endpoint.parameters)
        lines = writer.lines(keep_ids=follow)
        if follow:
            path = writer.path(Request(), kept=True)
            lines += ["", f"assert client.get({path}).status_code == {self.not_found}"]
        self.add(
            endpoint,
            f"deletes_a_{_words(self.entity.name)}",
            "answers 204; the record and its collections are gone",
            lines,
        )
        referenced = self.cases.referenced_case(endpoint, self.conflict)
        if referenced is not None:
            lines = self.writer(referenced).lines()
            self.add(
                endpoint,
                "refuses_while_another_record_refers_to_it",
                "409 while another record refers to it",
                lines,
            )
        self.unknown(endpoint, case)

    def test_delete_children(self, endpoint: Endpoint) -> None:
        case = self.cases.delete_children_case(endpoint)
        if case is None:
            return
        lines = self.writer(case).lines()
        self.add(
            endpoint,
            "deletes_every_child_of_the_parent",
            "answers 204; the parent's children are gone, others stay",
            lines,
        )
        self.unknown(endpoint, case)

    def test_list(self, endpoint: Endpoint) -> None:
        listing = Listing(self, endpoint)
        self.add(
            endpoint,
            f"lists_{_words(self.entity.name)}_records",
            "a page of every record, in order",
            listing.everything(),
        )
        self.add(
            endpoint,
            "answers_page_by_page",
            "page and page_size cut the list; total counts them all",
            listing.paging(),
        )
        for name in endpoint.filters:
            item = field_by_name(self.entity, name)
            if item is None or item.type.kind == "collection":
                continue
            lines = listing.filtered(item)
            if lines is not None:
                self.add(
                    endpoint,
                    f"filters_by_{_words(item.name)}",
                    f"?{item.json_name}= keeps only the matching records",
                    lines,
                )
        if endpoint.parameters:
            lines = listing.unknown_parent()
            self.add(
                endpoint,
                f"answers_404_for_an_unknown_{_words(endpoint.parameters[0].entity)}",
                "404 for an unknown parent",
                lines,
            )


@dataclass(frozen=True)
class Target:
    """A record a filter test arranges for a reference: the same index, the same record."""

    entity: str
    index: int


class Listing:
    """Records to list, the order the endpoint gives them, and the tests' lines."""

    def __init__(self, tests: EndpointTests, endpoint: Endpoint) -> None:
        self.tests = tests
        self.endpoint = endpoint
        self.cases = tests.cases
        self.entity = tests.entity
        self.link = parent_link(tests.ir, endpoint)
        self.targets: dict[tuple[str, int], Ref] = {}

    def arrange(self, values: list[dict[str, Any]]) -> tuple[Arrangement, list[Ref], Ref | None]:
        arrangement = Arrangement(self.tests.ir)
        parent: Ref | None = None
        if self.link is not None:
            parent = arrangement.add(str(self.link.type.entity))
            other = arrangement.add(str(self.link.type.entity))
            arrangement.add(self.entity.name, {self.link.name: other})
        refs: list[Ref] = []
        targets: dict[tuple[str, int], Ref] = {}
        ordered = self.order_values(len(values))
        for index, given in enumerate(values):
            chosen = dict(ordered[index]) if ordered else {}
            for name, value in given.items():
                if isinstance(value, Target):  # a record of its own, shared by the same index
                    key = (value.entity, value.index)
                    if key not in targets:
                        targets[key] = arrangement.add(value.entity)
                    value = targets[key]
                chosen[name] = value
            if self.link is not None and parent is not None:
                chosen[self.link.name] = parent
            refs.append(self.cases.stored(arrangement, chosen))
        self.targets = targets
        return arrangement, refs, parent

    def order_values(self, count: int) -> list[dict[str, Any]]:
        """Values of the first ordering field, given out of order (so id order differs)."""
        if not self.endpoint.ordering:
            return []
        item = self.entity.field(self.endpoint.ordering[0].field)
        if item is None or item.type.kind in ("reference", "collection", "boolean"):
            return []
        values = sorted({sample(self.entity.name, item, k) for k in range(count)} - {None})
        if len(values) < count:
            return []
        shuffled = values[1:] + values[:1] if count > 1 else values
        return [{item.name: value} for value in reversed(shuffled)]

    def expected(self, world: World, refs: list[Ref]) -> list[Ref]:
        """The records in the endpoint's order, then by id."""

        def compare(left: Ref, right: Ref) -> int:
            a, b = world.deref(left).values, world.deref(right).values
            for order in self.endpoint.ordering:
                x, y = a.get(order.field), b.get(order.field)
                if x != y and x is not None and y is not None:
                    result = -1 if x < y else 1
                    return -result if order.descending else result
            return -1 if left.id < right.id else (1 if left.id > right.id else 0)

        return sorted(refs, key=functools.cmp_to_key(compare))

    def path(self, parent: Ref | None, names: dict[Ref, str], unknown: bool = False) -> str:
        path = self.endpoint.path
        for parameter in self.endpoint.parameters:
            value = str(UNKNOWN_ID) if unknown else f"{{{names[parent]}.id}}" if parent else "0"
            path = path.replace("{" + parameter.name + "}", value, 1)
        return f'f"{path}"' if "{" in path else py_string(path)

    def test(
        self,
        values: list[dict[str, Any]],
        query: dict[str, Any],
        pick: list[int] | None,
        page: tuple[int, int] | None = None,
    ) -> list[str]:
        arrangement, refs, parent = self.arrange(values)
        module = self.tests.module
        clock = Clock(module)
        names = {ref: name for name, ref in arrangement.order}
        lines = arrangement.lines(clock)
        chosen = [refs[i] for i in pick] if pick is not None else refs
        expected = self.expected(arrangement.world, chosen)
        size = self.endpoint.page_size
        number = 1
        if page is not None:
            number, size = page
            query = {**query, "page": number, "page_size": size}
        shown = expected[(number - 1) * size : number * size]
        params = ", ".join(
            f"{py_string(k)}: {self.query_value(v, names, clock)}" for k, v in query.items()
        )
        call = f"client.get({self.path(parent, names)}" + (
            f", params={{{params}}})" if params else ")"
        )
        ids = ", ".join(f"{names[ref]}.id" for ref in shown)
        asserts = [
            f"response = {call}",
            "",
            "assert response.status_code == 200, response.text",
            "body = response.json()",
            f'assert [item["id"] for item in body["items"]] == [{ids}]',
            f'assert body["total"] == {len(expected)}',
            f'assert body["page"] == {number}',
            f'assert body["page_size"] == {size}',
        ]
        return (
            [*clock.preamble(), "", *lines, "", *asserts]
            if clock.preamble()
            else [*lines, "", *asserts]
        )

    def query_value(self, value: Any, names: dict[Ref, str], clock: Clock) -> str:
        if isinstance(value, Target):
            value = self.targets[(value.entity, value.index)]
        if isinstance(value, Ref):
            return f"{names[value]}.id"
        return json_value(value, clock)

    def everything(self) -> list[str]:
        return self.test([{}] * LISTED, {}, None)

    def paging(self) -> list[str]:
        return self.test([{}] * LISTED, {}, None, page=(2, 2))

    def filtered(self, item: Field) -> list[str] | None:
        values = self.two_values(item)
        if values is None:
            return None
        first, second = values
        arranged = [{item.name: first}, {item.name: second}, {item.name: first}]
        probe, _, _ = self.arrange(arranged)
        if probe.problem() is not None:  # a unique group: one record per value
            return self.test(arranged[:2], {item.json_name: first}, [0])
        return self.test(arranged, {item.json_name: first}, [0, 2])

    def two_values(self, item: Field) -> tuple[Any, Any] | None:
        if item.type.kind == "reference":
            return None if item.type.entity is None else self._two_targets(item)
        if item.type.kind == "boolean":
            return (True, False)
        if item.type.kind == "enum":
            states = item.type.values
            return (states[0], states[1]) if len(states) > 1 else None
        first, second = sample(self.entity.name, item, 0), sample(self.entity.name, item, 1)
        if first is None or second is None or first == second:
            return None
        return (first, second)

    def _two_targets(self, item: Field) -> tuple[Any, Any] | None:
        entity = str(item.type.entity)
        return (Target(entity, 0), Target(entity, 1))

    def unknown_parent(self) -> list[str]:
        arrangement, _, parent = self.arrange([{}])
        clock = Clock(self.tests.module)
        names = {ref: name for name, ref in arrangement.order}
        lines = arrangement.lines(clock)
        entity = self.endpoint.parameters[0].entity
        message = messages.not_found(entity, UNKNOWN_ID)
        asserts = [
            f"response = client.get({self.path(parent, names, unknown=True)})",
            "",
            f"assert response.status_code == {self.tests.not_found}, response.text",
            f'assert response.json() == {{"detail": {py_string(message)}}}',
        ]
        preamble = clock.preamble()
        return [*preamble, *([""] if preamble else []), *lines, "", *asserts]


def _words(text: str) -> str:
    from specloom.plan import naming

    return naming.identifier(text, limit=8)
