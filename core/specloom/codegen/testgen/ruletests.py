"""The rules module: for each rule, a write that keeps it and a write that breaks it
(refused with the rule's status and message, nothing stored). Writes go through the API
when an endpoint or a flow can break the rule, else through the ORM and
`app.rules.commit`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from specloom.codegen import messages
from specloom.codegen.testgen.bulk import add_children
from specloom.codegen.testgen.emit import Case, CaseWriter, scenario_case
from specloom.codegen.testgen.facts import FactFinder, flow_facts, rule_entities
from specloom.codegen.testgen.flowtests import test_module
from specloom.codegen.testgen.guarded import attempt
from specloom.codegen.testgen.interpreter import Interpreter
from specloom.codegen.testgen.ormrules import OrmRuleWriter
from specloom.codegen.testgen.outcome import Request
from specloom.codegen.testgen.policy import policy_of_rule
from specloom.codegen.testgen.pseudo import ORM, orm_write, plain_flow
from specloom.codegen.testgen.pysrc import Module, comment_lines, function
from specloom.codegen.testgen.scenarios import FlowScenarios
from specloom.codegen.testgen.slots import Names
from specloom.codegen.testgen.template import MAX_GROUP
from specloom.codegen.testgen.validity import world_problem
from specloom.codegen.testgen.world import Ref
from specloom.ir.api import Endpoint
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import CardinalityRule, Flow, Rule

EXTRA = 3  # how many more children than the maximum a search of a big group tries


@dataclass
class Channel:
    flow: Flow
    endpoint: Endpoint
    plain: bool

    @property
    def through_api(self) -> bool:
        return self.endpoint.id != ORM

    def where(self) -> str:
        if self.through_api:
            return f"{self.endpoint.method} {self.endpoint.path}"
        return "the ORM and app.rules.commit"


@dataclass
class Found:
    channel: Channel
    broken: Case
    kept: Case | None


class RuleTests:
    def __init__(self, ir: ApplicationIR, module: Module) -> None:
        self.ir = ir
        self.module = module
        self.notes: list[str] = []

    def channels(self, rule: Rule) -> list[Channel]:
        """The writes that check the rule: plain create and update endpoints of its
        entities, the flows that write them, and last the ORM."""
        entities = rule_entities(rule)
        finder = FactFinder(self.ir)
        finder.rule(rule)
        reads = finder.facts.fields
        found: list[Channel] = []
        for endpoint in self.ir.api.endpoints:
            if endpoint.flow is None and endpoint.entity in entities:
                flow = plain_flow(self.ir, endpoint)
                if flow is not None and self.can_break(flow, endpoint, entities, reads):
                    found.append(Channel(flow, endpoint, True))
        for flow in self.ir.behaviour.flows:
            served = self.ir.api.endpoint(flow.endpoint) if flow.endpoint else None
            if served is not None and self.can_break(flow, served, entities, reads):
                found.append(Channel(flow, served, False))
        for name in sorted(entities):
            entity = self.ir.domain.entity(name)
            if entity is not None:
                for kind in ("update", "create"):
                    flow, endpoint = orm_write(self.ir, entity, kind)
                    found.append(Channel(flow, endpoint, True))
        return found

    def can_break(
        self, flow: Flow, endpoint: Endpoint, entities: set[str], reads: set[tuple[str, str]]
    ) -> bool:
        """A write can break a rule only if it creates a record of the rule's entities or
        changes a field the rule reads (on them or on the records they refer to)."""
        facts = flow_facts(self.ir, flow, endpoint)
        if not facts.written & entities:
            return False
        return bool(facts.moves & entities or facts.writes & reads)

    def solve(self, rule: Rule) -> Found | None:
        channels = self.channels(rule)
        body = rule.body
        if isinstance(body, CardinalityRule) and body.maximum >= MAX_GROUP:
            for channel in channels:
                found = self.many(rule, body, channel)
                if found is not None:
                    return found
            return None
        for among in (False, True):
            for channel in channels:
                scenarios = FlowScenarios(self.ir, channel.flow, channel.endpoint, channel.plain)
                broken = scenarios.rule(rule.id, among=among)
                if broken is not None:
                    kept = scenarios.kept(rule.id, broken)
                    return Found(
                        channel, scenario_case(broken), scenario_case(kept) if kept else None
                    )
        return None

    def many(self, rule: Rule, body: CardinalityRule, channel: Channel) -> Found | None:
        """A cardinality rule with a big maximum: a write that keeps it, then the same
        write after the owner gets children up to the maximum (arranged in a loop)."""
        scenarios = FlowScenarios(self.ir, channel.flow, channel.endpoint, channel.plain)
        kept = scenarios.kept(rule.id, None)
        if kept is None:
            return None
        outcome = kept.outcome
        written = [r for r in [*outcome.created, *outcome.changed] if r.entity == body.entity]
        if not written:
            return None
        owner_id = outcome.world.deref(written[0]).values.get(body.via)
        if owner_id is None or kept.instance.world.get(body.owner, owner_id) is None:
            return None
        case = scenario_case(kept)
        owner = Ref(body.owner, owner_id)
        have = sum(
            1 for r in kept.instance.world.all(body.entity) if r.values.get(body.via) == owner_id
        )
        interpreter = Interpreter(self.ir, channel.flow, channel.endpoint, plain=channel.plain)
        request = Request(kept.instance.params, kept.instance.body)
        for extra in range(max(body.maximum - have - 1, 0), body.maximum - have + EXTRA):
            world = kept.instance.world.copy()
            names = Names()
            names.taken |= {name for name, _ in case.order}
            first, iterations = add_children(self.ir, world, body, owner, extra, names)
            if world_problem(world) is not None:
                break
            result = interpreter.run(world, request)
            if result.point == ("rule", rule.id) and result.broken_rules == [rule.id]:
                order = [*case.order, *first]
                broken = replace(case, world=world, order=order, outcome=result, bulk=iterations)
                return Found(channel, broken, case)
        return None

    def tests(self, rule: Rule) -> list[tuple[str, str, list[str]]]:
        """(name stem, summary, lines) of the rule's tests."""
        found = self.solve(rule)
        if found is None:
            self.notes.append(
                f"{rule.id}: no write, through the API or the ORM, breaks it in a world that "
                "keeps every other constraint: there is no refusal to test."
            )
            return []
        where = found.channel.where()
        message = messages.rule_message(rule)
        tests: list[tuple[str, str, list[str]]] = []
        if found.kept is not None:
            summary = f"{rule.id}: a write through {where} that keeps it is stored"
            tests.append(("accepts_a_write_that_keeps_it", summary, self.lines(found, found.kept)))
        else:
            self.notes.append(f"{rule.id}: no write through {where} keeps it while checking it.")
        summary = (
            f"{rule.id}: a write through {where} that breaks it answers {rule.status} "
            f'"{message}"; nothing is stored'
        )
        tests.append(("refuses_a_write_that_breaks_it", summary, self.lines(found, found.broken)))
        return tests

    def lines(self, found: Found, case: Case) -> list[str]:
        if found.channel.through_api:
            return CaseWriter(self.ir, self.module, case).lines()
        return OrmRuleWriter(self.ir, self.module, case).write_lines()


def render_rule_tests(ir: ApplicationIR, requirement_ids: list[str]) -> str:
    module = Module("Tests of the rules: a write that keeps each rule, and one that breaks it.")
    test_module(module)
    tests = RuleTests(ir, module)
    wanted = list(dict.fromkeys(requirement_ids)) or [r.id for r in ir.behaviour.rules]
    for requirement in wanted:
        rule = next((r for r in ir.behaviour.rules if r.id == requirement), None)
        if rule is None:
            tests.notes.append(f"{requirement}: not a rule of this spec.")
            continue
        made = attempt(tests.notes, rule.id, partial(tests.tests, rule)) or []
        for stem, summary, lines in made:
            name = module.test_name(rule.id, stem)
            refusal = stem == "refuses_a_write_that_breaks_it"
            covers = [rule.id, *(policy_of_rule(ir, rule) if refusal else [])]
            module.blocks.append(function(name, summary, covers, lines))
    for note in tests.notes:
        module.blocks.append("\n".join(comment_lines(f"Not tested: {note}")))
    return module.render()
