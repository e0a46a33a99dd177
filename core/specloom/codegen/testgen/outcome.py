"""What a run of the oracle answers: the request it was given and its outcome (status,
message, the world after it, what it created, changed and deleted, the events on the
way), and how a message names records whose ids are known only at run time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specloom.codegen.testgen.world import Ref, World

StepKey = tuple[Any, ...]
REF_TOKEN = "\x00"


def ref_token(index: int) -> str:
    """Stands in a message for the id of `Outcome.refs[index]` (known only at run time)."""
    return f"{REF_TOKEN}{index}{REF_TOKEN}"


@dataclass
class Request:
    """What the client sends: the ids in the path, in order, and the JSON body."""

    params: list[int]
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    status: int
    message: str | None
    point: tuple[Any, ...]
    world: World
    body: Ref | list[Ref] | None = None
    created: list[Ref] = field(default_factory=list)
    changed: list[Ref] = field(default_factory=list)
    deleted: list[Ref] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    env: dict[str, Any] = field(default_factory=dict)
    invalid: str | None = None
    broken_rules: list[str] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)  # records named in the message (REF_TOKEN)
    broken_messages: list[str] = field(default_factory=list)  # of each broken check

    @property
    def ok(self) -> bool:
        return self.invalid is None and self.status < 400
