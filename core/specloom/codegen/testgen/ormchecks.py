"""Constraint tests of an entity no plain endpoint creates: values through its request
schema (`<Entity>Create.model_validate`), the rest through the ORM: the repository's
`add` (defaults, set on create, unique values) and `app.rules.commit`."""

from __future__ import annotations

from typing import Any

from specloom.codegen.testgen.arrange import Arrangement, constructor
from specloom.codegen.testgen.entitycases import EntityCases
from specloom.codegen.testgen.pseudo import writable_fields
from specloom.codegen.testgen.pysrc import (
    Clock,
    Module,
    expect_value,
    json_value,
    py_string,
    py_value,
)
from specloom.codegen.testgen.slots import field_order
from specloom.codegen.testgen.validity import world_problem
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY, fits, quantize, sample
from specloom.codegen.testgen.world import Ref
from specloom.ir.domain import Field
from specloom.plan import naming
from specloom.spec.names import snake


class SchemaChecks:
    """`<Entity>Create.model_validate` of a valid payload with one field varied."""

    def __init__(self, cases: EntityCases, module: Module) -> None:
        self.cases = cases
        self.module = module
        self.clock = Clock(module)
        entity = cases.entity
        self.schema = f"{entity.name}Create"
        self.payload: dict[str, Any] = {}
        record: dict[str, Any] = {}
        writable = {f.name for f in writable_fields(entity)}
        for item in field_order(entity, cases.fields):
            if item.name not in writable or not item.required:
                continue
            if item.type.kind == "reference":
                self.payload[item.json_name] = 1
                continue
            value = sample(entity.name, item, 0, record)
            record[item.name] = value
            self.payload[item.json_name] = value
        self.record = record

    def data(self, overrides: dict[str, Any], removed: str | None = None) -> str:
        """The payload as Python; the schema it is validated with is imported from here."""
        self.module.need(naming.schemas_module(self.cases.entity.name), self.schema)
        items = {**self.payload, **overrides}
        parts = [
            f"{py_string(k)}: {json_value(v, self.clock)}" for k, v in items.items() if k != removed
        ]
        return "{" + ", ".join(parts) + "}"

    def lines(
        self, item: Field, accepted: Any, rejected: Any, context: dict[str, Any]
    ) -> list[str]:
        """Accepted: the validated model holds the value; rejected: ValidationError."""
        self.module.need("pydantic", "ValidationError")
        self.module.need("pytest")
        extra: dict[str, Any] = {}
        for name, value in context.items():
            other = self.cases.entity.field(name)
            if other is not None:
                extra[other.json_name] = value
        good = self.data({**extra, item.json_name: accepted})
        body = [
            f"accepted = {self.schema}.model_validate({good})",
            expect_value(f"accepted.{item.json_name}", accepted, self.clock),
        ]
        if rejected is not None:
            bad = self.data({**extra, item.json_name: rejected})
            body += [
                "with pytest.raises(ValidationError):",
                f"    {self.schema}.model_validate({bad})",
            ]
        return self.with_clock(body)

    def required(self, item: Field) -> list[str]:
        self.module.need("pydantic", "ValidationError")
        self.module.need("pytest")
        body = [
            f"{self.schema}.model_validate({self.data({})})",
            "with pytest.raises(ValidationError):",
            f"    {self.schema}.model_validate({self.data({}, removed=item.json_name)})",
        ]
        return self.with_clock(body)

    def ignores(self, item: Field, value: Any) -> list[str]:
        body = [
            f"data = {self.schema}.model_validate({self.data({item.json_name: value})})",
            f"assert {py_string(item.json_name)} not in data.model_dump()",
        ]
        return self.with_clock(body)

    def with_clock(self, body: list[str]) -> list[str]:
        preamble = self.clock.preamble()
        return [*preamble, "", *body] if preamble else body


class OrmChecks:
    """Records added through the repository and committed with the rules."""

    def __init__(self, cases: EntityCases, module: Module) -> None:
        self.cases = cases
        self.ir = cases.ir
        self.module = module
        self.clock = Clock(module)
        self.arrangement = Arrangement(cases.ir)
        self.entity = cases.entity
        self.first: Ref | None = None
        self.repository = f"{self.entity.name}Repository"
        module.need(naming.repository_module(self.entity.name), self.repository)
        module.need("app.rules", "commit")
        module.model(self.entity.name)

    def source(self, ref: Ref, overrides: dict[str, str] | None = None) -> str:
        names = self.arrangement.names_by_ref()
        text, _ = constructor(self.ir, self.clock, self.arrangement.world, ref, names, overrides)
        return text

    def finish(self, body: list[str]) -> list[str]:
        arrange = self.arrangement.lines(self.clock)
        preamble = self.clock.preamble()
        blocks = [preamble, arrange, body]
        out: list[str] = []
        for block in blocks:
            if block:
                out += ([""] if out else []) + block
        return out

    def filled(self, item: Field) -> list[str]:
        """A record added without the field: the app fills it (its default, the time)."""
        ref = self.arrangement.add(self.entity.name, minimal=True, stored=False, name="record")
        values = self.arrangement.world.deref(ref).values
        expected: Any = None
        default = item.default
        if default is not None and default.kind == "literal" and default.value is not None:
            expected = quantize(item, default.value.python())
        elif default is not None and default.kind == "field" and default.field:
            expected = values.get(default.field)
        elif (default is not None and default.kind == "now") or item.set_on_create:
            expected = REF_NOW if item.type.kind == "datetime" else REF_TODAY
        elif default is not None and default.kind == "today":
            expected = REF_TODAY
        body = [
            f"record = {self.source(ref)}",
            f"{self.repository}(db).add(record)",
            "commit(db)",
            "db.expire_all()",
            expect_value(f"record.{item.name}", expected, self.clock, expected == REF_NOW),
        ]
        return self.finish(body)

    def duplicate(self, group: list[str], status: int, message_of: Any) -> list[str] | None:
        """A second record with the same values of `group`: refused; one differing: kept."""
        self.module.need("pytest")
        self.module.need("app.errors", "AppError")
        # a missing value clashes with nothing: give the group's optional fields a value
        given: dict[str, Any] = {}
        for name in group:
            item = self.entity.field(name)
            if item is None or item.type.kind == "reference":
                continue
            if not (item.required or item.default is not None or item.set_on_create):
                value = sample(self.entity.name, item, 0, {})
                if value is not None:
                    given[name] = value
        first = self.arrangement.add(self.entity.name, given or None)
        self.first = first
        values = self.arrangement.world.deref(first).values
        same = {name: self._as_given(name, values[name]) for name in group}
        twin = self.arrangement.add(self.entity.name, same, stored=False, name="twin")
        other = self._differing(group, values)
        if other is None:
            return None
        distinct = self.arrangement.add(self.entity.name, other, stored=False, name="distinct")
        body = [
            "with pytest.raises(AppError) as caught:",
            f"    {self.repository}(db).add({self.source(twin)})",
            f"assert caught.value.status == {status}",
            f"assert caught.value.message == {message_of(self.arrangement.names_by_ref())}",
            "db.rollback()",
            f"{self.repository}(db).add({self.source(distinct)})",
            "commit(db)",
        ]
        return self.finish(body)

    def _as_given(self, name: str, value: Any) -> Any:
        item = self.entity.field(name)
        if item is not None and item.type.kind == "reference" and value is not None:
            return Ref(str(item.type.entity), value)
        return value

    def _differing(self, group: list[str], values: dict[str, Any]) -> dict[str, Any] | None:
        """The group's values with the last one changed (a new record, or another sample)."""
        other = {name: self._as_given(name, values[name]) for name in group}
        last = self.entity.field(group[-1])
        if last is None:
            return None
        if last.type.kind == "reference":
            other[last.name] = self.arrangement.add(str(last.type.entity))
            return other
        for k in range(1, 5):
            value = sample(self.entity.name, last, k, values)
            if value is not None and value != values[last.name] and fits(last, value, values):
                other[last.name] = value
                return other
        return None

    def unknown_reference(self, item: Field) -> list[str]:
        self.module.need("pytest")
        self.module.need("app.errors", "AppError")
        self.module.need("sqlalchemy.exc", "IntegrityError")
        ref = self.arrangement.add(self.entity.name, stored=False, name="record")
        body = [
            "with pytest.raises((AppError, IntegrityError)):",
            f"    {self.repository}(db).add({self.source(ref, {item.json_name: '999999'})})",
            "    commit(db)",
            "db.rollback()",
            f"{self.repository}(db).add({self.source(ref)})",
            "commit(db)",
        ]
        return self.finish(body)

    def updated(self, item: Field) -> list[str] | None:
        """A stored record changed and committed: the field is set to the time of it."""
        ref = self.arrangement.add(self.entity.name, name=snake(self.entity.name))
        record = self.arrangement.world.deref(ref).values
        name = self.arrangement.name_of(ref)
        for other in self.entity.fields:
            if not other.is_stored or other.type.kind == "reference" or other.name == item.name:
                continue
            if other.unique or other.unique_with or other.set_on_update:
                continue
            for k in range(1, 4):
                value = sample(self.entity.name, other, k, record)
                if value is None or value == record.get(other.name):
                    continue
                if not fits(other, value, {**record, other.name: value}):
                    continue
                trial = self.arrangement.world.copy()
                trial.deref(ref).values[other.name] = value
                if world_problem(trial) is not None:
                    continue
                self.module.need("app.database", "utcnow")
                body = [
                    f"{name}.{other.name} = {self.value(value)}",
                    "commit(db)",
                    "db.expire_all()",
                    expect_value(f"{name}.{item.name}", REF_NOW, self.clock, True),
                ]
                return self.finish(body)
        return None

    def value(self, value: Any) -> str:
        return py_value(value, self.clock)
