"""Constraint tests through the entity's plain create endpoint: a sequence of requests
(the first accepted, the next refused), each answer computed by the oracle in turn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specloom.codegen.testgen.arrange import Arrangement
from specloom.codegen.testgen.emit import message_source
from specloom.codegen.testgen.entitycases import REMOVE, EntityCases
from specloom.codegen.testgen.interpreter import Interpreter
from specloom.codegen.testgen.outcome import Outcome, Request
from specloom.codegen.testgen.pseudo import plain_flow
from specloom.codegen.testgen.pysrc import Clock, Module, expect_json, json_value, py_string
from specloom.codegen.testgen.values import REF_NOW
from specloom.codegen.testgen.world import Ref
from specloom.ir.api import Endpoint
from specloom.ir.domain import Field


@dataclass
class Post:
    body: dict[str, Any]
    checks: list[str]  # json keys whose stored value the test asserts when accepted


class HttpChecks:
    """Requests to one create endpoint, against records arranged once."""

    def __init__(self, cases: EntityCases, endpoint: Endpoint, module: Module) -> None:
        self.cases = cases
        self.endpoint = endpoint
        self.module = module
        self.arrangement = Arrangement(cases.ir)
        self.params = cases.parents(self.arrangement, endpoint)
        self.posts: list[Post] = []
        self.clock = Clock(module)

    def body(
        self, k: int, overrides: dict[str, Any] | None = None, full: bool = False
    ) -> dict[str, Any]:
        body = self.cases.payload(self.arrangement, k, self.endpoint, full)
        body.update(overrides or {})
        return {key: value for key, value in body.items() if value is not REMOVE}

    def post(self, body: dict[str, Any], checks: list[str] | None = None) -> None:
        self.posts.append(Post(body, checks or []))

    def outcomes(self) -> list[Outcome]:
        flow = plain_flow(self.cases.ir, self.endpoint)
        assert flow is not None
        interpreter = Interpreter(self.cases.ir, flow, self.endpoint, plain=True)
        world = self.arrangement.world
        found: list[Outcome] = []
        for post in self.posts:
            sent = {k: (v.id if isinstance(v, Ref) else v) for k, v in post.body.items()}
            outcome = interpreter.run(world, Request([p.id for p in self.params], sent))
            found.append(outcome)
            if outcome.ok:
                world = outcome.world
        return found

    def given(self, body: dict[str, Any], item: Field) -> Any:
        """The value the app gives the field when this body is sent alone (None: refused)."""
        saved = self.posts
        self.posts = [Post(body, [])]
        outcome = self.outcomes()[0]
        self.posts = saved
        if outcome.ok and isinstance(outcome.body, Ref):
            return outcome.world.deref(outcome.body).values.get(item.name)
        return None

    def path(self, names: dict[Ref, str]) -> str:
        path = self.endpoint.path
        for index, parameter in enumerate(self.endpoint.parameters):
            path = path.replace(
                "{" + parameter.name + "}", f"{{{names[self.params[index]]}.id}}", 1
            )
        return f'f"{path}"' if "{" in path else py_string(path)

    def lines(self) -> list[str] | None:
        """The test's lines, or None when the oracle says a request answers something the
        test did not mean (an accepted value refused, or no refusal)."""
        outcomes = self.outcomes()
        if any(o.invalid is not None for o in outcomes):
            return None
        names = self.arrangement.names_by_ref()
        arrange = self.arrangement.lines(self.clock)
        path = self.path(names)
        lines: list[str] = []
        for post, outcome in zip(self.posts, outcomes, strict=True):
            payload = ", ".join(
                f"{py_string(k)}: {names[v]}.id"
                if isinstance(v, Ref)
                else f"{py_string(k)}: {json_value(v, self.clock)}"
                for k, v in post.body.items()
            )
            lines += ["", f"response = client.post({path}, json={{{payload}}})"]
            lines.append(f"assert response.status_code == {outcome.status}, response.text")
            if outcome.ok and isinstance(outcome.body, Ref):
                record = outcome.world.deref(outcome.body)
                entity = self.cases.entity
                for key in post.checks:
                    item = next(f for f in entity.fields if f.json_name == key)
                    lines.append(self.check(item, record.values.get(item.name), names))
            elif not outcome.ok and outcome.message is not None:
                detail = message_source(outcome.message, outcome.refs, names)
                lines.append(f'assert response.json() == {{"detail": {detail}}}')
        preamble = self.clock.preamble()
        out: list[str] = []
        for block in (preamble, arrange, lines[1:]):
            if block:
                out += ([""] if out else []) + block
        return out

    def check(self, item: Field, value: Any, names: dict[Ref, str]) -> str:
        target = f"response.json()[{py_string(item.json_name)}]"
        if item.type.kind == "reference":
            if value is None:
                return f"assert {target} is None"
            return f"assert {target} == {names[Ref(str(item.type.entity), value)]}.id"
        return expect_json(target, value, self.clock, value == REF_NOW)
