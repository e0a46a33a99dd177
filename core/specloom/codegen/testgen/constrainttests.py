"""A test per field constraint of an entity: an accepted value and a refused one, through
the plain create endpoint when there is one, else through the request schema and the
ORM. Where no request can carry a refused value (a read-only field), the test checks
the value the app gives and a comment says why nothing is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from specloom.codegen import messages
from specloom.codegen.schemas import parent_link
from specloom.codegen.testgen.emit import CaseWriter, message_source
from specloom.codegen.testgen.entitycases import REMOVE, EntityCases
from specloom.codegen.testgen.httpchecks import HttpChecks
from specloom.codegen.testgen.ormchecks import OrmChecks, SchemaChecks
from specloom.codegen.testgen.probes import bound_probe, length_probe, pattern_probe, type_probe
from specloom.codegen.testgen.pseudo import writable_fields
from specloom.codegen.testgen.pysrc import Module, comment_lines
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY, quantize, quantum, sample
from specloom.codegen.testgen.world import Ref
from specloom.ir.domain import Field

Result = tuple[str, list[str]] | str  # (name stem, lines), or why it is not tested


class ConstraintTests:
    def __init__(self, cases: EntityCases, module: Module) -> None:
        self.cases = cases
        self.ir = cases.ir
        self.entity = cases.entity
        self.module = module
        self.create = cases.endpoint("create")
        self.update = cases.endpoint("update")
        self.link = parent_link(self.ir, self.create) if self.create else None
        self.writable = {f.name for f in writable_fields(self.entity)}
        policy = self.ir.validation.error_policy
        self.not_found = policy.status_for("not_found")
        self.duplicate_status = policy.status_for("duplicate")

    def http(self, item: Field | None = None) -> HttpChecks | None:
        if self.create is None:
            return None
        if item is not None and self.link is not None and item.name == self.link.name:
            return None
        return HttpChecks(self.cases, self.create, self.module)

    def test(self, requirement: str) -> Result:
        if ".unique(" in requirement:
            fields = requirement.split(".unique(", 1)[1].rstrip(")").split(",")
            return self.unique_group([f.strip() for f in fields])
        _, name, suffix = requirement.split(".", 2)
        item = self.cases.fields.get(name)
        if item is None:
            return f"{requirement}: the entity has no field {name}."
        handler: Callable[[Field], Result] | None = getattr(self, f"check_{suffix}", None)
        if handler is None:
            return f"{requirement}: a constraint this generator does not know."
        return handler(item)

    # --- presence and uniqueness -----------------------------------------------------------

    def check_required(self, item: Field) -> Result:
        if item.name not in self.writable:
            return self.given_by_app(item, "it is required")
        checks = self.http(item)
        if checks is not None:
            checks.post(checks.body(0), [item.json_name])
            checks.post(checks.body(1, {item.json_name: REMOVE}))
            lines = checks.lines()
            if lines is not None:
                return ("refuses_a_request_without_it", lines)
        return ("refuses_data_without_it", SchemaChecks(self.cases, self.module).required(item))

    def check_unique(self, item: Field) -> Result:
        return self.unique_group([item.name])

    def check_unique_with(self, item: Field) -> Result:
        return self.unique_group([item.name, *item.unique_with])

    def unique_group(self, group: list[str]) -> Result:
        fields = [self.entity.field(name) for name in group]
        if any(f is None for f in fields):
            return f"unique together {', '.join(group)}: a field is missing."
        checks = self.http()
        sendable = checks is not None and all(
            name in self.writable and (self.link is None or name != self.link.name)
            for name in group
        )
        if checks is not None and sendable:
            first = checks.body(0, full=True)
            second = checks.body(1, full=True)
            for k, body in enumerate((first, second)):
                for field in fields:
                    if field is not None and field.json_name not in body:
                        body[field.json_name] = self.group_value(checks, field, k)
            same = {
                f.json_name: first[f.json_name]
                for f in fields
                if f is not None and f.json_name in first
            }
            if len(same) == len(group):
                checks.post(first, list(same))
                checks.post({**second, **same})
                checks.post(second, list(same))
                lines = checks.lines()
                if lines is not None:
                    return ("refuses_a_duplicate", lines)
        orm = OrmChecks(self.cases, self.module)
        columns = [f.json_name for f in fields if f is not None]

        def message(names: dict[Ref, str]) -> str:
            values = orm.arrangement.world.deref(orm.first).values if orm.first else {}
            shown: list[tuple[str, object]] = []
            refs: list[Ref] = []
            for column, field in zip(columns, fields, strict=True):
                assert field is not None
                value = values.get(field.name)
                if field.type.kind == "reference" and value is not None:
                    refs.append(Ref(str(field.type.entity), int(value)))
                    value = f"\x00{len(refs) - 1}\x00"
                shown.append((column, value))
            return message_source(messages.duplicate_group(self.entity.name, shown), refs, names)

        lines = orm.duplicate(group, self.duplicate_status, message)
        if lines is None:
            return (
                f"unique {', '.join(group)}: no second value of {group[-1]} to tell records apart."
            )
        return ("refuses_a_duplicate", lines)

    def group_value(self, checks: HttpChecks, item: Field, k: int) -> Any:
        """A value of a unique group's field for the k-th request (a new record for a
        reference)."""
        if item.type.kind == "reference":
            return checks.arrangement.add(str(item.type.entity))
        return sample(self.entity.name, item, k)

    # --- values ----------------------------------------------------------------------------

    def value_check(self, item: Field, probe: Any) -> Result:
        if probe is None:
            return (
                f"{self.entity.name}.{item.name}: no value within the other constraints meets it."
            )
        if item.name not in self.writable:
            return self.given_by_app(item, probe.words)
        stem = _stem(probe.words)
        checks = self.http(item)
        if checks is not None:
            first = checks.body(0)
            context = {self.cases.fields[k].json_name: v for k, v in probe.context.items()}
            checks.post({**first, **context, item.json_name: probe.accepted}, [item.json_name])
            if probe.rejected is not None:
                second = checks.body(1)
                checks.post({**second, **context, item.json_name: probe.rejected})
            lines = checks.lines()
            if lines is not None:
                return (stem, lines)
        schema = SchemaChecks(self.cases, self.module)
        return (stem, schema.lines(item, probe.accepted, probe.rejected, probe.context))

    def record(self) -> dict[str, Any]:
        checks = SchemaChecks(self.cases, self.module)
        return dict(checks.record)

    def check_min_length(self, item: Field) -> Result:
        return self.value_check(item, length_probe(item, "min_length"))

    def check_max_length(self, item: Field) -> Result:
        return self.value_check(item, length_probe(item, "max_length"))

    def check_pattern(self, item: Field) -> Result:
        return self.value_check(item, pattern_probe(item))

    def check_min(self, item: Field) -> Result:
        return self.bound(item, (">", ">="))

    def check_max(self, item: Field) -> Result:
        return self.bound(item, ("<", "<="))

    def bound(self, item: Field, ops: tuple[str, ...]) -> Result:
        original = self.entity.field(item.name) or item
        bound = next((b for b in original.bounds if b.op in ops), None)
        if bound is None:
            return f"{self.entity.name}.{item.name}: no bound of that direction."
        return self.value_check(item, bound_probe(original, bound, self.record()))

    def check_type(self, item: Field) -> Result:
        if item.type.kind == "reference":
            return self.reference_type(item)
        if item.name not in self.writable:
            return self.read_only_type(item)
        return self.value_check(item, type_probe(self.entity.name, item, self.record()))

    def reference_type(self, item: Field) -> Result:
        target = str(item.type.entity)
        checks = self.http(item)
        if checks is not None and item.name in self.writable:
            first = checks.body(0, full=True)
            if item.json_name in first:
                checks.post(first, [item.json_name])
                checks.post({**checks.body(1), item.json_name: 999999})
                lines = checks.lines()
                if lines is not None:
                    return (f"must_be_a_stored_{_stem(target)}", lines)
        lines = OrmChecks(self.cases, self.module).unknown_reference(item)
        return (f"must_be_a_stored_{_stem(target)}", lines)

    def read_only_type(self, item: Field) -> Result:
        if item.type.kind == "decimal":
            orm = OrmChecks(self.cases, self.module)
            base = sample(self.entity.name, item, 0) or Decimal(0)
            fine = Decimal(base) + quantum(item) / 2
            ref = orm.arrangement.add(
                self.entity.name, {item.name: fine}, stored=False, name="record"
            )
            expected = quantize(item, fine)
            body = [
                f"record = {orm.source(ref)}",
                f"{orm.repository}(db).add(record)",
                "commit(db)",
                "db.expire_all()",
                f"assert record.{item.name} == {orm.value(expected)}",
            ]
            return ("is_kept_to_its_scale", orm.finish(body))
        return self.given_by_app(item, f"is a {item.type.describe()}")

    # --- values the app gives ------------------------------------------------------------------

    def check_default(self, item: Field) -> Result:
        return self.given_by_app(item, "has a default", note=False)

    def check_set_on_create(self, item: Field) -> Result:
        return self.given_by_app(item, "is set on create", note=False)

    def check_read_only(self, item: Field) -> Result:
        checks = self.http()
        given = checks.given(checks.body(0), item) if checks is not None else None
        other = self.foreign_value(item, given)
        if checks is not None and other is not None:
            checks.post({**checks.body(0), item.json_name: other}, [item.json_name])
            lines = checks.lines()
            if lines is not None:
                return ("ignores_a_value_sent", lines)
        if other is None:
            other = sample(self.entity.name, item, 1)
        return (
            "is_not_taken_from_a_client",
            SchemaChecks(self.cases, self.module).ignores(item, other),
        )

    def foreign_value(self, item: Field, given: Any) -> Any:
        """A valid value other than the one the app gives the field on create."""
        if item.type.kind == "datetime":
            return REF_NOW - timedelta(days=30)
        if item.type.kind == "date":
            return REF_TODAY - timedelta(days=30)
        if item.type.kind == "reference":
            return None
        default = item.default
        if default is not None and default.kind == "literal" and default.value is not None:
            given = quantize(item, default.value.python()) if given is None else given
        for k in range(6):
            value = sample(self.entity.name, item, k)
            if value is not None and value != given:
                return value
        return None

    def check_set_on_update(self, item: Field) -> Result:
        if self.update is not None:
            case = self.cases.update_case(self.update)
            if case is not None:
                return (
                    "is_set_when_the_record_changes",
                    CaseWriter(self.ir, self.module, case).lines(),
                )
        orm = OrmChecks(self.cases, self.module)
        lines = orm.updated(item)
        if lines is None:
            return f"{self.entity.name}.{item.name}: no other field can change to set it."
        return ("is_set_when_the_record_changes", lines)

    def given_by_app(self, item: Field, words: str, note: bool = True) -> Result:
        """The value the app gives a field a client does not send: on create through the
        endpoint when there is one, else through the repository."""
        checks = self.http()
        if checks is not None:
            checks.post(checks.body(0), [item.json_name])
            lines = checks.lines()
        else:
            lines = None
        if lines is None:
            lines = OrmChecks(self.cases, self.module).filled(item)
        if note and item.name not in self.writable:
            lines += comment_lines(
                f"The refused half of {self.entity.name}.{item.name} ({words}) cannot be "
                "tested: the field is read-only, so no request carries a value for it; the "
                "test checks the value the app gives it."
            )
        return ("is_given_by_the_app", lines)


def _stem(words: str) -> str:
    from specloom.plan import naming

    return naming.identifier(words, limit=9)
