"""The oracle: a flow run over an in-memory world, following the IR's semantics.

It is independent of the generated application: the tests it helps write check the
app against what the spec says. A run validates the inputs (422), loads the path
records and reference inputs (404), runs the steps in one transaction (a guard or an
error response stops it and nothing persists), checks the rules on what was created
or changed, and answers with the response the spec gives.
"""

from __future__ import annotations

from typing import Any

from specloom.codegen import messages
from specloom.codegen.testgen.evaluate import Evaluator, Undefined, arithmetic
from specloom.codegen.testgen.inputs import input_problem
from specloom.codegen.testgen.outcome import Outcome, Request, StepKey, ref_token
from specloom.codegen.testgen.rulecheck import broken, broken_bounds
from specloom.codegen.testgen.schema import unique_groups
from specloom.codegen.testgen.values import REF_NOW, REF_TODAY, quantize
from specloom.codegen.testgen.world import Ref, World
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import (
    AdjustStep,
    CreateStep,
    DeleteStep,
    FindStep,
    Flow,
    ForEachStep,
    Guard,
    IfStep,
    PathExpr,
    RecordQuery,
    RespondStep,
    SetFromInput,
    SetStep,
    Step,
    walk_steps,
)
from specloom.spec.names import entity_aliases


class _Stop(Exception):
    def __init__(
        self,
        status: int,
        message: str | None,
        point: tuple[Any, ...],
        refs: list[Ref] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.point = point
        self.refs = refs or []


class _Respond(Exception):
    def __init__(self, step: RespondStep, key: StepKey) -> None:
        super().__init__(str(key))
        self.step = step
        self.key = key


def step_key(prefix: StepKey, index: int) -> StepKey:
    return (*prefix, index)


class Interpreter:
    """Runs one flow behind one endpoint. `plain` marks the flow standing for a plain
    create or update endpoint: an input the client leaves out leaves the field to its
    default, and the request schema checks the bounds against the clock."""

    def __init__(self, ir: ApplicationIR, flow: Flow, endpoint: Endpoint, plain: bool = False):
        self.ir = ir
        self.flow = flow
        self.endpoint = endpoint
        self.plain = plain
        policy = ir.validation.error_policy
        self.not_found = policy.status_for("not_found")
        self.duplicate = policy.status_for("duplicate")
        self.validation = policy.status_for("validation")
        self.input_names = frozenset(item.name for item in flow.inputs)
        # a create endpoint whose flow has no Create of its own makes the record first
        self.implicit = endpoint.kind == "create" and not any(
            isinstance(step, CreateStep) and step.entity == endpoint.entity
            for step in walk_steps(flow.steps)
        )

    def run(self, before: World, request: Request) -> Outcome:
        world = before.share()  # records are copied as the run writes them
        self.world = world
        self.created: list[Ref] = []
        self.deleted: list[Ref] = []
        self.events: list[tuple[Any, ...]] = []
        self.env: dict[str, Any] = {}
        given = set(request.body)
        self.evaluator = Evaluator(world, self.env, REF_NOW, REF_TODAY, given)
        try:
            problem = input_problem(self.ir, self.flow, request.body, self.plain)
            if problem is not None:
                kind, name = problem
                if kind == "unclear":
                    return self._invalid(before, f"input {name} may or may not be accepted")
                raise _Stop(422, None, ("validation", name))
            self._load(request)
            response: _Respond | None = None
            try:
                self._steps(self.flow.steps, ())
            except _Respond as answered:
                response = answered
            return self._finish(before, response)
        except _Stop as stop:
            return Outcome(
                stop.status, stop.message, stop.point, before, events=self.events, refs=stop.refs
            )
        except (Undefined, KeyError) as error:
            return self._invalid(before, str(error))

    def _invalid(self, before: World, reason: str) -> Outcome:
        return Outcome(500, None, ("invalid",), before, events=self.events, invalid=reason)

    # --- before the steps ------------------------------------------------------------------

    def _load(self, request: Request) -> None:
        self.path_refs: list[Ref] = []
        for index, parameter in enumerate(self.endpoint.parameters):
            record_id = request.params[index]
            self.path_refs.append(Ref(parameter.entity, record_id))
            if self.world.get(parameter.entity, record_id) is None:
                message = messages.not_found(parameter.entity, record_id)
                raise _Stop(self.not_found, message, ("not_found", parameter.name))
            for alias in sorted(entity_aliases(parameter.entity)):
                self.env.setdefault(alias, Ref(parameter.entity, record_id))
        for item in self.flow.inputs:
            value = request.body.get(item.name)
            self.env[item.name] = value
            if item.reference is not None and item.name.endswith("_id"):
                record = None if value is None else self.world.get(item.reference, value)
                if value is not None and record is None:
                    message = messages.not_found(item.reference, value)
                    raise _Stop(self.not_found, message, ("not_found", item.name))
                self.env[item.name[:-3]] = None if record is None else record.ref
        if self.implicit:
            self._implicit_create(request)

    def _implicit_create(self, request: Request) -> None:
        """A create endpoint whose flow has no Create of its own makes the record first."""
        entity = self.world.entity(self.endpoint.entity)
        values: dict[str, Any] = {}
        for item in entity.fields:
            if item.is_stored and item.json_name in request.body:
                values[item.name] = request.body[item.json_name]
        if self.endpoint.parent_field and self.endpoint.parameters:
            via = self._parent_reference()
            values[via] = request.params[-1]
        ref = self._create(self.endpoint.entity, values, ("implicit",))
        for alias in sorted(entity_aliases(self.endpoint.entity)):
            self.env.setdefault(alias, ref)

    def _parent_reference(self) -> str:
        parent = self.world.entity(str(self.endpoint.parent))
        item = parent.field(str(self.endpoint.parent_field))
        if item is not None and item.type.kind == "collection":
            return str(item.type.via)
        return str(self.endpoint.parent_field)

    # --- steps ------------------------------------------------------------------------------

    def _steps(self, steps: list[Step], prefix: StepKey) -> None:
        for index, step in enumerate(steps):
            self._step(step, step_key(prefix, index))

    def _step(self, step: Step, key: StepKey) -> None:
        if isinstance(step, Guard):
            passed = self.evaluator.condition(step.condition)
            self.events.append(("guard", key, passed))
            if not passed:
                message = messages.guard_message(self.flow.id, step.message)
                raise _Stop(step.status, message, ("guard", key))
        elif isinstance(step, SetStep):
            for assignment in step.assignments:
                self._assign(assignment.target.parts, self.evaluator.value(assignment.value))
        elif isinstance(step, SetFromInput):
            for target in step.targets:
                name = target.parts[-1]
                given = self.evaluator.given
                if step.only_given and name not in given and f"{name}_id" not in given:
                    continue
                self._assign(target.parts, self.env.get(name))
        elif isinstance(step, AdjustStep):
            current = self.evaluator.path(step.target.parts)
            amount = self.evaluator.value(step.amount)
            op = "+" if step.direction == "increase" else "-"
            self._assign(step.target.parts, arithmetic(op, current, amount))
        elif isinstance(step, CreateStep):
            values = {
                item.field: self.evaluator.value(item.value)
                for item in step.fields
                if not self._left_out(item.value)
            }
            ref = self._create(step.entity, values, key)
            for alias in sorted({step.variable, *entity_aliases(step.entity)}):
                self.env[alias] = ref
        elif isinstance(step, FindStep):
            self._find(step, key)
        elif isinstance(step, ForEachStep):
            self._for_each(step, key)
        elif isinstance(step, IfStep):
            taken = self.evaluator.condition(step.condition)
            self.events.append(("if", key, taken))
            if taken:
                self._steps(step.then, (*key, "then"))
            else:
                self._steps(step.otherwise, (*key, "otherwise"))
        elif isinstance(step, DeleteStep):
            self._delete(step)
        else:
            self.events.append(("respond", key, step.status))
            if step.status >= 400:
                message = step.message or f"{self.flow.id}: the request is refused"
                raise _Stop(step.status, message, ("respond", key))
            raise _Respond(step, key)

    def _left_out(self, value: Any) -> bool:
        """An input the client left out: for a plain endpoint the field keeps its default."""
        if not isinstance(value, PathExpr) or len(value.parts) != 1:
            return False
        name = value.parts[0]
        inputs = self.input_names
        given = self.evaluator.given
        sent = name in given or f"{name}_id" in given
        return (name in inputs or f"{name}_id" in inputs) and not sent and self.plain

    def _assign(self, parts: list[str], value: Any) -> None:
        owner = self.evaluator.path(parts[:-1])
        if not isinstance(owner, Ref):
            raise Undefined(f"'{'.'.join(parts)}' is not a field of a record")
        record = self.world.writable(owner)
        item = self.world.entity(owner.entity).field(parts[-1])
        if item is None or not item.is_stored:
            raise Undefined(f"cannot set {'.'.join(parts)}")
        record.values[item.name] = self._stored(item.type.kind, item, value)

    def _stored(self, kind: str, item: Any, value: Any) -> Any:
        if value is None:
            return None
        if kind == "reference":
            if not isinstance(value, Ref):
                raise Undefined("a reference takes a record")
            return value.id
        if isinstance(value, (Ref, list)):
            raise Undefined("a record stored in a scalar field")
        if kind == "integer" and not isinstance(value, int):
            raise Undefined("a decimal stored in an integer field")
        return quantize(item, value)

    def _create(self, entity_name: str, given: dict[str, Any], key: StepKey) -> Ref:
        entity = self.world.entity(entity_name)
        values: dict[str, Any] = {}
        for item in entity.fields:
            if not item.is_stored:
                continue
            if item.name in given:
                values[item.name] = self._stored(item.type.kind, item, given[item.name])
            else:
                values[item.name] = None
        for item in entity.fields:
            if not item.is_stored or item.name in given:
                continue
            values[item.name] = self._default(item, values)
        record = self.world.add(entity_name, values)
        self.created.append(record.ref)
        self.events.append(("create", key, entity_name))
        self._check_unique(record.ref)
        return record.ref

    def _default(self, item: Any, values: dict[str, Any]) -> Any:
        default = item.default
        clock = REF_NOW if item.type.kind == "datetime" else REF_TODAY
        if default is not None:
            if default.kind == "literal" and default.value is not None:
                return quantize(item, default.value.python())
            if default.kind == "field" and default.field:
                return values.get(default.field)
            return REF_NOW if default.kind == "now" else REF_TODAY
        if item.set_on_create:
            return clock
        return None

    def _check_unique(self, ref: Ref) -> None:
        entity = self.world.entity(ref.entity)
        record = self.world.deref(ref)
        others = [r for r in self.world.all(ref.entity) if r.id != ref.id]
        for group in unique_groups(entity):
            mine = [record.values.get(name) for name in group]
            if None in mine:
                continue
            if any([o.values.get(name) for name in group] == mine for o in others):
                shown: list[tuple[str, object]] = []
                refs: list[Ref] = []
                for name, value in zip(group, mine, strict=True):
                    item = entity.field(name)
                    if item is not None and item.type.kind == "reference" and value is not None:
                        refs.append(Ref(str(item.type.entity), int(value)))
                        value = ref_token(len(refs) - 1)
                    shown.append((_json_name(entity, name), value))
                message = messages.duplicate_group(ref.entity, shown)
                point = ("duplicate", ",".join(group))
                raise _Stop(self.duplicate, message, point, refs)

    def _query(self, query: RecordQuery) -> list[Ref]:
        refs = [r.ref for r in self.world.all(query.entity)]
        if query.owner is not None and query.via is not None:
            owner = self.evaluator.path(query.owner.parts)
            owner_id = owner.id if isinstance(owner, Ref) else None
            refs = [r for r in refs if self.world.deref(r).values.get(query.via) == owner_id]
        return self.evaluator.filtered(refs, query.filters)

    def _find(self, step: FindStep, key: StepKey) -> None:
        found = self._query(step.query)
        self.events.append(("find", key, bool(found)))
        if found:
            self.env[step.variable] = found[0]
            for alias in sorted(entity_aliases(step.query.entity)):
                self.env.setdefault(alias, found[0])
            return
        self._steps(step.otherwise, (*key, "otherwise"))
        bound = self.env.get(step.variable)
        if isinstance(bound, Ref):
            for alias in sorted(entity_aliases(step.query.entity)):
                self.env.setdefault(alias, bound)

    def _for_each(self, step: ForEachStep, key: StepKey) -> None:
        if step.query is not None:
            refs = self._query(step.query)
        elif step.collection is not None:
            refs = self.evaluator.records(step.collection, step.filters)
        else:
            refs = []
        self.events.append(("loop", key, len(refs)))
        for ref in refs:
            if self.world.get(ref.entity, ref.id) is None:
                continue
            self.env[step.variable] = ref
            self._steps(step.steps, (*key, "each"))

    def _delete(self, step: DeleteStep) -> None:
        target = self.evaluator.path(step.target.parts)
        refs = target if isinstance(target, list) else [target]
        for ref in refs:
            if not isinstance(ref, Ref):
                raise Undefined("deleting something that is not a record")
            self.deleted += self.world.delete(ref)

    # --- after the steps ---------------------------------------------------------------------

    def _finish(self, before: World, response: _Respond | None) -> Outcome:
        world = self.world
        changed: list[Ref] = []
        for name in sorted(before.records):
            now_table = world.records.get(name) or {}
            for key, record in before.records[name].items():
                now_record = now_table.get(key)
                if now_record is record:
                    continue  # never written: still the record it was
                if now_record is not None and now_record.values != record.values:
                    changed.append(Ref(name, key))
        for ref in changed:
            record = world.writable(ref)
            for item in world.entity(ref.entity).fields:
                if item.set_on_update:
                    record.values[item.name] = (
                        REF_NOW if item.type.kind == "datetime" else REF_TODAY
                    )
        if world.dangling():
            return self._invalid(before, "a deleted record is still referenced")
        if self.plain:
            for ref in changed:
                self._check_unique(ref)  # an update endpoint checks what it changed
        created = [ref for ref in self.created if world.get(ref.entity, ref.id) is not None]
        written = [*created, *changed]
        refusals = broken_bounds(world, written, self.validation)
        refusals += [
            (rule.id, rule.status, messages.rule_message(rule))
            for rule in broken(self.ir.behaviour.rules, world, written)
        ]
        if refusals:
            check, status, message = refusals[0]
            return Outcome(
                status,
                message,
                ("rule", check),
                before,
                events=self.events,
                broken_rules=[item[0] for item in refusals],
                broken_messages=[item[2] for item in refusals],
            )
        status, body = self._response(response, created)
        return Outcome(
            status,
            None,
            ("done",),
            world,
            body=body,
            created=created,
            changed=changed,
            deleted=[ref for ref in self.deleted if before.get(ref.entity, ref.id) is not None],
            events=self.events,
            env=dict(self.env),
        )

    def _response(
        self, response: _Respond | None, created: list[Ref]
    ) -> tuple[int, Ref | list[Ref] | None]:
        if response is not None:
            body = None
            if response.step.body is not None:
                value = self.evaluator.path(response.step.body.parts)
                if not isinstance(value, (Ref, list)):
                    raise Undefined("a response with something that is not a record")
                body = value
            return response.step.status, body
        if self.endpoint.kind == "create":
            mine = [ref for ref in created if ref.entity == self.endpoint.entity]
            if mine:
                return 201, mine[0]
        if self.path_refs:
            ref = self.path_refs[-1]
            if self.world.get(ref.entity, ref.id) is not None:
                return 200, ref
        return 204, None


def _json_name(entity: Any, name: str) -> str:
    item = entity.field(name)
    return item.json_name if item is not None else name
