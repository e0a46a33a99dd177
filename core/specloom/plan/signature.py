"""Canonical JSON of IR content, and the hash of a semantic signature.

Source ranges are left out, so moving a line changes no hash; keys are sorted and
separators fixed, so the text (and the hash) is the same in every run and process.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from specloom.plan.model import SemanticSignature


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: one text for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def without_ranges(value: Any) -> Any:
    """A dumped IR value with every node's `range` removed, at any depth."""
    if isinstance(value, dict):
        return {key: without_ranges(item) for key, item in value.items() if key != "range"}
    if isinstance(value, list):
        return [without_ranges(item) for item in value]
    return value


def content(node: BaseModel) -> Any:
    """What an IR node says, without where the spec says it."""
    return without_ranges(node.model_dump(mode="json"))


def constraint(tag: str, value: Any) -> str:
    """One constraint of a signature: the tag of the IR content a task depends on and
    the sha256 of that content's canonical JSON (`entity:Book@3f2a...`). The digest
    changes exactly when the content does, and keeps plan.json small: the content
    itself is in the IR."""
    digest = hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
    return f"{tag}@{digest}"


def signature_hash(signature: SemanticSignature) -> str:
    """sha256 hex of the canonical JSON of the whole signature."""
    text = canonical_json(signature.model_dump(mode="json"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
