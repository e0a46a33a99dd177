"""Phase 1, spec ingestion: Markdown in, ApplicationIR and diagnostics out.

The document is split into sections by its `##` headings; each known section is
compiled by its own parser. Sections are compiled in dependency order
(entities, then endpoints, flows, rules, errors) whatever order they are written
in. Nothing is dropped silently: every block the compiler does not interpret
gets a diagnostic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from specloom.ir.api import ApiModel
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import BehaviourModel, Flow, Rule
from specloom.ir.common import SourceRange
from specloom.ir.domain import DomainModel, Entity, Field
from specloom.ir.validation import ErrorPolicy, ValidationModel
from specloom.spec.diagnostics import DiagnosticSink
from specloom.spec.document import Block, Heading, Item, Opaque, Paragraph, read_blocks
from specloom.spec.endpoints import EndpointParser
from specloom.spec.entities import EntityParser
from specloom.spec.error_policy import parse_error_line
from specloom.spec.flows import FlowParser
from specloom.spec.names import ENTITY_NAME
from specloom.spec.rules import RuleParser
from specloom.spec.source import Span

SECTIONS: dict[str, str] = {
    "entities": "entities",
    "data model": "entities",
    "model": "entities",
    "domain": "entities",
    "domain model": "entities",
    "endpoints": "endpoints",
    "api": "endpoints",
    "routes": "endpoints",
    "flows": "flows",
    "behaviour": "flows",
    "behavior": "flows",
    "workflows": "flows",
    "rules": "rules",
    "invariants": "rules",
    "business rules": "rules",
    "errors": "errors",
    "error policy": "errors",
    "error handling": "errors",
    "overview": "prose",
    "description": "prose",
    "introduction": "prose",
    "background": "prose",
    "context": "prose",
    "notes": "prose",
    "about": "prose",
    "glossary": "prose",
}
KNOWN_SECTIONS = "Entities, Endpoints, Flows, Rules, Errors (and prose: Overview, Notes)"

_SENTENCE = re.compile(r"[^.!?;]+(?:[.!?]+|;|$)")
_REQUIREMENT_LANGUAGE = re.compile(
    r"\b(must|mustn't|shall|should|needs? to|has to|have to|can't|cannot|can not|may not|"
    r"never|always|at least|at most|unique|required|is only|only possible|not allowed|"
    r"we need|would like|wants? to)\b",
    re.I,
)


@dataclass(slots=True)
class Subsection:
    heading: Span | None
    blocks: list[Block] = field(default_factory=list)


@dataclass(slots=True)
class Section:
    kind: str
    heading: Span
    subsections: list[Subsection] = field(default_factory=list)


def sentences(span: Span) -> list[Span]:
    result: list[Span] = []
    for match in _SENTENCE.finditer(span.text):
        piece = span.sub(match.start(), match.end()).strip()
        if piece.text.strip(" .;"):
            result.append(piece)
    return result


class SpecParser:
    """Compiles one spec text; `parse()` returns the IR, the sink holds the diagnostics."""

    def __init__(self, text: str, sink: DiagnosticSink) -> None:
        self.text = text
        self.sink = sink
        self.ir = ApplicationIR()
        self.sections: list[Section] = []
        self.preamble: list[Block] = []
        self.title: Span | None = None

    # --- structure --------------------------------------------------------------

    def parse(self) -> ApplicationIR:
        blocks, lines = read_blocks(self.text)
        last = max(len(lines) - 1, 0)
        self.ir.range = SourceRange.of(0, 0, last, len(lines[last]) if lines else 0)
        self.split(blocks)
        self.compile_preamble()
        by_kind: dict[str, list[Section]] = {}
        for section in self.sections:
            by_kind.setdefault(section.kind, []).append(section)
        self.ir.domain = self.compile_entities(by_kind.get("entities", []))
        self.ir.api = self.compile_endpoints(by_kind.get("endpoints", []))
        self.ir.behaviour = BehaviourModel(
            flows=self.compile_flows(by_kind.get("flows", [])),
            rules=self.compile_rules(by_kind.get("rules", [])),
        )
        self.ir.validation = ValidationModel(
            error_policy=self.compile_errors(by_kind.get("errors", []))
        )
        for section in by_kind.get("prose", []):
            for subsection in section.subsections:
                self.describe(subsection.blocks)
        if not self.ir.domain.entities:
            where = self.title.range() if self.title else SourceRange.of(0, 0, 0, 0)
            self.sink.add(
                "SL101",
                "nothing to compile: the spec has no '## Entities' section with '### Entity' "
                "headings and field lines; write one (see docs/spec-language.md), or "
                "formalize prose with a language model",
                where,
            )
            self.report_uncompiled_prose()
        return self.ir

    def report_uncompiled_prose(self) -> None:
        """With nothing structured to compile, every prose sentence is said to be unused,
        line by line, so a prose spec shows what the compiler did not take."""
        for block in self.preamble:
            if not isinstance(block, Paragraph):
                continue
            for sentence in sentences(block.span):
                if not _REQUIREMENT_LANGUAGE.search(sentence.text):
                    self.sink.add(
                        "SL104",
                        "this sentence is not interpreted: the compiler reads only the "
                        "structured sections (see docs/spec-language.md)",
                        sentence.range(),
                    )

    def split(self, blocks: list[Block]) -> None:
        section: Section | None = None
        for block in blocks:
            if isinstance(block, Heading):
                if block.level == 1:
                    if self.title is None:
                        self.title = block.span
                        self.ir.name = block.span.text.strip()
                    else:
                        self.sink.add(
                            "SL108",
                            "a spec has one '#' title; make this a '##' section or remove it",
                            block.span.range(),
                        )
                    continue
                if block.level == 2:
                    key = re.sub(r"[^a-z ]", "", block.span.text.lower()).strip()
                    kind = SECTIONS.get(key)
                    if kind is None:
                        self.sink.add(
                            "SL102",
                            f"'{block.span.text.strip()}' is not a section the compiler knows, "
                            f"so nothing under it is interpreted; the sections are "
                            f"{KNOWN_SECTIONS}",
                            block.span.range(),
                        )
                        kind = "unknown"
                    section = Section(kind, block.span, [Subsection(None)])
                    self.sections.append(section)
                    continue
                if section is None:
                    self.sink.add(
                        "SL103",
                        "this heading comes before any '##' section: put it under one",
                        block.span.range(),
                    )
                    continue
                if block.level == 3:
                    section.subsections.append(Subsection(block.span))
                    continue
                section.subsections[-1].blocks.append(block)
                continue
            if section is None:
                self.preamble.append(block)
            else:
                section.subsections[-1].blocks.append(block)

    # --- prose --------------------------------------------------------------------

    def compile_preamble(self) -> None:
        descriptions = self.describe(self.preamble)
        self.ir.description = "\n\n".join(descriptions)

    def describe(self, blocks: list[Block]) -> list[str]:
        """Blocks of prose: paragraphs describe; a sentence stating a requirement is flagged."""
        texts: list[str] = []
        for block in blocks:
            if isinstance(block, Paragraph):
                texts.append(" ".join(block.span.text.split()))
                self.flag_prose_requirements(block.span)
            elif isinstance(block, Item):
                self.not_interpreted(block, "a list outside a section")
            else:
                self.not_interpreted(block, "prose")
        return texts

    def flag_prose_requirements(self, span: Span) -> None:
        if not _REQUIREMENT_LANGUAGE.search(span.text):
            # No sentence can hold what the whole text does not: a sentence is a piece of
            # it between full stops (or ends), so its words have the same boundaries.
            return
        for sentence in sentences(span):
            if _REQUIREMENT_LANGUAGE.search(sentence.text):
                self.sink.add(
                    "SL105",
                    "this sentence reads as a requirement, but prose is not compiled: state it "
                    "in the structured language (an entity field, a flow step or a rule), or "
                    "formalize it with a language model",
                    sentence.range(),
                )

    def prose_in_list_section(self, span: Span, where: str) -> None:
        for sentence in sentences(span):
            if _REQUIREMENT_LANGUAGE.search(sentence.text):
                self.flag_prose_requirements(sentence)
            else:
                self.sink.add(
                    "SL104",
                    f"this sentence is not interpreted ({where}); only list lines are "
                    "compiled here: write it as one, or move it to a prose section such as "
                    "'## Notes'",
                    sentence.range(),
                )

    def not_interpreted(self, block: Block, where: str) -> None:
        if isinstance(block, Item):
            self.sink.add(
                "SL104",
                f"this line is not interpreted ({where}): move it into the section it "
                "belongs to, written as that section's lines are",
                block.span.range(),
            )
            for child in block.children:
                self.not_interpreted(child, where)
        elif isinstance(block, Paragraph):
            for sentence in sentences(block.span):
                self.sink.add(
                    "SL104",
                    f"this sentence is not interpreted ({where}); only list lines are "
                    "compiled here",
                    sentence.range(),
                )
        elif isinstance(block, Opaque):
            self.sink.add(
                "SL106",
                f"this {block.kind.replace('_', ' ')} block is not interpreted ({where}): the "
                "compiler reads headings, list lines and paragraphs; write its content as list "
                "lines of a section, or remove it",
                block.range,
            )
        else:
            self.sink.add(
                "SL106",
                f"this heading is not interpreted ({where}): sections are '##' headings and "
                "entities or flows '###' headings; make it one of those or remove it",
                block.span.range(),
            )

    def section_intro(self, blocks: list[Block], where: str) -> None:
        """What stands between a section's heading and its first `###`: paragraphs
        describe (a requirement in them is flagged); anything else is reported."""
        for block in blocks:
            if isinstance(block, Paragraph):
                self.flag_prose_requirements(block.span)
            else:
                self.not_interpreted(block, where)

    def nested_not_interpreted(self, item: Item, where: str) -> None:
        for child in item.children:
            self.not_interpreted(child, where)
        for extra in item.extra:
            self.not_interpreted(extra, where)

    # --- entities -----------------------------------------------------------------

    def compile_entities(self, sections: list[Section]) -> DomainModel:
        names = [
            subsection.heading.text.strip()
            for section in sections
            for subsection in section.subsections
            if subsection.heading is not None
        ]
        parser = EntityParser(self.sink, names)
        domain = DomainModel(range=sections[0].heading.range() if sections else self.ir.range)
        seen: dict[str, Entity] = {}
        for section in sections:
            for subsection in section.subsections:
                if subsection.heading is None:
                    self.section_intro(subsection.blocks, "not under an '### Entity' heading")
                    continue
                name = subsection.heading.text.strip()
                if not ENTITY_NAME.match(name):
                    self.sink.add(
                        "SL213",
                        f"'{name}' is not an entity name: write it in CamelCase, one word, as "
                        "in 'TimeEntry'",
                        subsection.heading.range(),
                    )
                    continue
                entity = parser.entity(subsection.heading, "")
                if name in seen:
                    first = seen[name].range.start.line + 1
                    self.sink.add(
                        "SL202",
                        f"entity '{name}' is already defined on line {first}: merge the two or "
                        "rename one",
                        subsection.heading.range(),
                    )
                    continue
                seen[name] = entity
                domain.entities.append(entity)
                self.compile_fields(parser, entity, subsection.blocks)
        return domain

    def compile_fields(self, parser: EntityParser, entity: Entity, blocks: list[Block]) -> None:
        name = entity.name
        fields = entity.fields
        by_name: dict[str, Field] = {}  # what `entity.field` finds, without a scan per line
        for known in fields:
            by_name.setdefault(known.name, known)
        described = False
        for block in blocks:
            if isinstance(block, Paragraph) and not described and not fields:
                described = True
                entity.description = " ".join(block.span.text.split())
                self.flag_prose_requirements(block.span)
                continue
            if not isinstance(block, Item):
                self.not_interpreted(block, f"in entity {name}")
                continue
            if block.children or block.extra:
                self.nested_not_interpreted(block, f"nested under a field of {name}")
            together = parser.unique_together(block.span)
            if together is not None:
                entity.unique_together.append(together)
                continue
            field_ = parser.field(block.span, name)
            if field_ is None:
                continue
            field_name = field_.name
            existing = by_name.get(field_name)
            if existing is not None:
                self.sink.add(
                    "SL203",
                    f"{name} already has a field '{field_name}' (line "
                    f"{existing.range.start.line + 1}): rename or remove one",
                    block.span.range(),
                )
                continue
            fields.append(field_)
            by_name[field_name] = field_
        if not fields:
            self.sink.add(
                "SL214",
                f"{name} has no fields: list them as '- name: type, constraints'",
                entity.range,
            )

    # --- endpoints ----------------------------------------------------------------

    def compile_endpoints(self, sections: list[Section]) -> ApiModel:
        parser = EndpointParser(self.sink, self.ir.domain)
        api = ApiModel(range=sections[0].heading.range() if sections else self.ir.range)
        for item in self.section_items(sections, "in Endpoints"):
            api.endpoints.extend(parser.line(item.span))
        return api

    def section_items(self, sections: list[Section], where: str) -> list[Item]:
        """The list items of a list-only section; anything else is reported."""
        items: list[Item] = []
        for section in sections:
            for subsection in section.subsections:
                for block in subsection.blocks:
                    if isinstance(block, Item):
                        self.nested_not_interpreted(block, f"nested {where}")
                        items.append(block)
                    elif isinstance(block, Paragraph):
                        # Every line of these sections is a requirement: prose here is
                        # reported whatever it says.
                        self.prose_in_list_section(block.span, where)
                    else:
                        self.not_interpreted(block, where)
        return items

    # --- flows --------------------------------------------------------------------

    def compile_flows(self, sections: list[Section]) -> list[Flow]:
        parser = FlowParser(self.sink)
        flows: list[Flow] = []
        for section in sections:
            for subsection in section.subsections:
                if subsection.heading is None:
                    self.section_intro(subsection.blocks, "not under a '### F1. Flow' heading")
                    continue
                flow = parser.heading(subsection.heading)
                items: list[Item] = []
                described = False
                for block in subsection.blocks:
                    if isinstance(block, Paragraph) and parser.is_input(block.span):
                        flow.inputs.extend(parser.inputs(block.span))
                    elif isinstance(block, Paragraph) and not described and not items:
                        described = True
                        self.flag_prose_requirements(block.span)
                    elif isinstance(block, Item):
                        items.append(block)
                    else:
                        self.not_interpreted(block, f"in flow {flow.name}")
                flow.steps = parser.steps(items)
                flows.append(flow)
        return flows

    # --- rules and errors ---------------------------------------------------------

    def compile_rules(self, sections: list[Section]) -> list[Rule]:
        parser = RuleParser(self.sink, [entity.name for entity in self.ir.domain.entities])
        rules: list[Rule] = []
        for item in self.section_items(sections, "in Rules"):
            rule = parser.line(item.span)
            if rule is not None:
                rules.append(rule)
        return rules

    def compile_errors(self, sections: list[Section]) -> ErrorPolicy:
        policy = ErrorPolicy(range=sections[0].heading.range() if sections else self.ir.range)
        for item in self.section_items(sections, "in Errors"):
            mapping = parse_error_line(item.span, self.sink)
            if mapping is None:
                continue
            existing = next((m for m in policy.mappings if m.kind == mapping.kind), None)
            if existing is not None:
                self.sink.add(
                    "SL602",
                    f"the status for '{mapping.kind.replace('_', ' ')}' is already given on line "
                    f"{existing.range.start.line + 1}, and that one counts: remove one of the two",
                    mapping.range,
                )
                continue
            policy.mappings.append(mapping)
        return policy
