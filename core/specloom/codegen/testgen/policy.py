"""The error policy a test exercises (`errors.not_found`, `errors.duplicate`, ...): named
in the test's docstring too, so the trace map links each Errors line to its tests."""

from __future__ import annotations

from specloom.codegen.testgen.memo import per_ir
from specloom.ir.application import ApplicationIR
from specloom.ir.behaviour import CompareRule, Rule

# what a test's lines show when it checks a kind of failure the Errors section words
_SIGNS = {
    "not_found": ("not found", "== 404"),
    "validation": ("status_code == 422", "ValidationError"),
    "duplicate": ("already exists",),
    "conflict": ("is still referenced by",),
}


@per_ir
def _policy_lines(ir: ApplicationIR) -> frozenset[str]:
    return frozenset(r.id for r in ir.validation.requirements if r.kind == "error_policy")


def policy_ids(ir: ApplicationIR, *kinds: str) -> list[str]:
    """The IDs of the Errors lines of these kinds that the spec has."""
    known = _policy_lines(ir)
    return [f"errors.{kind}" for kind in kinds if f"errors.{kind}" in known]


def policy_of_lines(ir: ApplicationIR, lines: list[str]) -> list[str]:
    """The Errors lines a test checks, read off its assertions."""
    text = "\n".join(lines)
    kinds = [kind for kind, signs in _SIGNS.items() if any(sign in text for sign in signs)]
    return policy_ids(ir, *kinds)


def policy_of_rule(ir: ApplicationIR, rule: Rule) -> list[str]:
    """A broken comparison rule is a broken rule, a clash of ranges or counts a conflict:
    the refusal shows the Errors line of its kind when it answers that line's status
    (always so for a rule without a status of its own)."""
    kind = "rule" if isinstance(rule.body, CompareRule) else "conflict"
    answered = ir.validation.error_policy.status_for("rule" if kind == "rule" else "conflict")
    if rule.status_explicit and rule.status != answered:
        return []
    return policy_ids(ir, kind)
