"""The validation part of the IR: the error policy and the requirements it traces."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as PydanticField

from specloom.ir.common import Node

ErrorKind = Literal["not_found", "validation", "duplicate", "rule", "conflict"]

DEFAULT_ERROR_STATUS: dict[str, int] = {
    "not_found": 404,
    "validation": 422,
    "duplicate": 409,
    "rule": 422,
    "conflict": 409,
}


class ErrorMapping(Node):
    """`A duplicate value of a unique field answers 409.`"""

    kind: ErrorKind
    status: int
    text: str = ""


class ErrorPolicy(Node):
    """How each kind of failure answers; kinds the spec leaves out keep their defaults."""

    mappings: list[ErrorMapping] = PydanticField(default_factory=list)

    def status_for(self, kind: ErrorKind) -> int:
        for mapping in self.mappings:
            if mapping.kind == kind:
                return mapping.status
        return DEFAULT_ERROR_STATUS[kind]


RequirementKind = Literal["endpoint", "flow", "rule", "constraint", "error_policy"]
RequirementCategory = Literal["functional", "business_rule", "data_integrity", "error_handling"]


class Requirement(Node):
    """One thing the generated application must do, with a stable ID.

    Explicit IDs (F1, R2) come from the spec; derived ones are built from what the
    requirement is about (`Book.isbn.unique`, `GET /books`, `R-3f2a1c`), never from its position,
    so they survive edits elsewhere in the spec.
    """

    id: str
    explicit: bool
    kind: RequirementKind
    category: RequirementCategory
    text: str
    subjects: list[str] = PydanticField(default_factory=list)


class ValidationModel(Node):
    error_policy: ErrorPolicy = PydanticField(default_factory=ErrorPolicy)
    requirements: list[Requirement] = PydanticField(default_factory=list)

    def requirement(self, requirement_id: str) -> Requirement | None:
        for candidate in self.requirements:
            if candidate.id == requirement_id:
                return candidate
        return None
