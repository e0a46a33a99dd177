"""Quick fixes of spec diagnostics, by code: for one diagnostic of a compile, the edits
that would fix it, computed from the spec's text and its compiled model. Pure: no LSP
here (positions are the engine's code points); `features/quickfix.py` serves them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from specloom_lsp.fixes import behaviour, domain, sections
from specloom_lsp.fixes.text import Edit, Fix, Fixer, Problem

if TYPE_CHECKING:
    from specloom.spec.compiler import CompileResult
    from specloom.spec.diagnostics import Diagnostic

__all__ = ["FIXERS", "Edit", "Fix", "Problem", "fixes_for"]

logger = logging.getLogger(__name__)

FIXERS: dict[str, Fixer] = {
    "SL102": sections.unknown_section,
    "SL107": sections.duplicate_id,
    "SL108": sections.second_title,
    "SL201": domain.unknown_type,
    "SL202": domain.duplicate_entity,
    "SL203": domain.duplicate_field,
    "SL204": domain.dangling_reference,
    "SL205": domain.enum_default,
    "SL207": domain.contradictory,
    "SL208": domain.unknown_constraint,
    "SL209": domain.unreachable_state,
    "SL211": domain.field_line,
    "SL212": domain.collection_way_back,
    "SL213": domain.invalid_name,
    "SL215": domain.unknown_field_in_entity,
    "SL216": domain.unreachable_entity,
    "SL217": domain.never_set,
    "SL302": sections.unknown_path,
    "SL303": sections.path_parameter,
    "SL304": sections.remove_line("Remove this endpoint", preferred=False),
    "SL305": sections.unknown_endpoint_field,
    "SL401": behaviour.step_keyword,
    "SL402": behaviour.unknown_name,
    "SL403": behaviour.unknown_entity,
    "SL404": behaviour.unknown_field,
    "SL405": behaviour.unknown_state,
    "SL406": behaviour.flow_without_endpoint,
    "SL409": behaviour.step_after_respond,
    "SL411": behaviour.untyped_input,
    "SL412": behaviour.required_unset,
    "SL502": behaviour.unknown_rule_entity,
    "SL503": behaviour.unknown_field,
    "SL602": sections.remove_line("Remove this line (the first one counts)", preferred=True),
}
"""The codes with a fix. The others have none the text makes knowable: prose to
rewrite (SL103 to SL106, SL501, SL601), an unreadable file or one without entities
(SL100, SL101), a pattern, type or status to choose (SL206, SL210, SL301, SL407, SL408),
a missing flow or time range to write (SL214, SL306, SL504)."""


def fixes_for(diagnostic: Diagnostic, text: str, result: CompileResult) -> list[Fix]:
    """The quick fixes of one diagnostic of `result`, the compile of `text`."""
    fixer = FIXERS.get(diagnostic.code)
    if fixer is None:
        return []
    lines = text.splitlines()
    if diagnostic.range.start.line >= len(lines):
        return []
    newline = "\r\n" if "\r\n" in text else "\n"
    problem = Problem(diagnostic, lines, result.ir, newline)
    try:
        fixes = fixer(problem)
    except Exception:  # a fixer that fails costs its own fixes, never the others'
        logger.exception("the quick fixes of %s failed", diagnostic.code)
        return []
    return [fix for fix in fixes if fix.edits]
