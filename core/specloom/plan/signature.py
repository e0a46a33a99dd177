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
    """One constraint of a signature: `{"entity": {...}}` as canonical JSON text."""
    return canonical_json({tag: value})


def signature_hash(signature: SemanticSignature) -> str:
    """sha256 hex of the canonical JSON of the whole signature."""
    text = canonical_json(signature.model_dump(mode="json"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
