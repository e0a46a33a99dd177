"""The text of a task that the pattern bank embeds: what it is, in words.

Its kind, title and purpose, then what its signature says it takes, gives and touches
(the symbols it needs and defines, the domain's entities, and the kinds of spec
content it depends on: `entity`, `flow`, ...; the content's hashes say nothing to an
embedder), cut to a length an embedder reads. Two tasks that do the same thing in
different domains share the kind, the purpose's shape and the symbols' roles; the
names differ.
"""

from __future__ import annotations

from specloom.plan.model import Task

MAX_CHARS = 1200  # all-MiniLM-L6-v2 reads 256 word pieces; the hashing embedder, all


def describe(task: Task) -> str:
    signature = task.signature
    parts = [f"{task.kind}: {task.title}.", signature.purpose]
    if signature.inputs:
        parts.append("inputs: " + ", ".join(signature.inputs))
    if signature.outputs:
        parts.append("outputs: " + ", ".join(signature.outputs))
    if signature.domain:
        parts.append("domain: " + ", ".join(signature.domain))
    if signature.constraints:
        kinds = sorted({constraint.split("@", 1)[0] for constraint in signature.constraints})
        parts.append("depends on: " + ", ".join(kinds))
    return " ".join(part for part in parts if part)[:MAX_CHARS]
