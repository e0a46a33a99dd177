"""A pattern: the code of one task, with where it came from and how it has fared."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from specloom.codegen.bank import Rendered
from specloom.codegen.pycode import Imports
from specloom.plan.model import Task

DECAY = 0.5
"""How much a failure weighs against a success in `Pattern.reliability`'s prior."""


@cache
def generator_fingerprint() -> str:
    """sha256 of Specloom's code generator (every source file of `specloom.codegen`):
    a pattern is reused only by the generator that rendered it."""
    root = Path(__file__).resolve().parents[1] / "codegen"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".txt", ".j2", ".tmpl"):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def pattern_id(task: Task, fingerprint: str | None = None) -> str:
    """The id of the pattern of `task`: its kind, subject, signature hash and the
    requirement IDs it implements (the code names them), under one generator."""
    parts = (fingerprint or generator_fingerprint(), task.kind, task.subject)
    key = "\0".join((*parts, task.signature_hash, ",".join(sorted(task.requirement_ids))))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Pattern(BaseModel):
    id: str
    kind: str
    subject: str
    title: str
    signature_hash: str
    fingerprint: str
    description: str
    files: list[tuple[str, str]] = Field(default_factory=list)  # path, text
    part: str | None = None  # the block of a shared module
    part_imports: dict[str, Any] | None = None
    requirement_kinds: list[str] = Field(default_factory=list)
    spec_hash: str = ""
    spec_name: str = ""
    run_id: str = ""
    uses: int = 0
    successes: int = 0
    failures: int = 0
    last_used: str = ""

    @property
    def reliability(self) -> float:
        """Successes against failures with a prior of one of each: 0.5 for a pattern
        never judged, towards 1 with successes, towards 0 with failures."""
        return (self.successes + 1) / (self.successes + 1 + (self.failures + 1) / DECAY)

    @property
    def task_key(self) -> str:
        """The graph id of the task it implements (`bank.task_key`)."""
        return f"{self.spec_name}:{self.kind}:{self.subject}"

    @property
    def reusable(self) -> bool:
        """Whether phase 6 may reuse it as it is: it verified clean at least once and has
        not failed as often since."""
        return self.successes > 0 and self.failures < self.successes

    def rendered(self) -> Rendered:
        part = None
        if self.part is not None:
            part = (self.part, imports_from(self.part_imports or {}))
        return Rendered(files=tuple(self.files), part=part)

    def properties(self) -> dict[str, Any]:
        """As a graph node's properties (strings, numbers and lists of strings)."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "title": self.title,
            "signature_hash": self.signature_hash,
            "fingerprint": self.fingerprint,
            "description": self.description,
            "paths": [path for path, _ in self.files],
            "texts": [text for _, text in self.files],
            "part": self.part,
            "part_imports": json.dumps(self.part_imports) if self.part_imports else None,
            "requirement_kinds": list(self.requirement_kinds),
            "spec_hash": self.spec_hash,
            "spec_name": self.spec_name,
            "run_id": self.run_id,
            "uses": self.uses,
            "successes": self.successes,
            "failures": self.failures,
            "last_used": self.last_used,
        }

    @classmethod
    def from_properties(cls, pattern_id: str, properties: dict[str, Any]) -> Pattern:
        imports = properties.get("part_imports")
        return cls(
            id=pattern_id,
            kind=str(properties.get("kind", "")),
            subject=str(properties.get("subject", "")),
            title=str(properties.get("title", "")),
            signature_hash=str(properties.get("signature_hash", "")),
            fingerprint=str(properties.get("fingerprint", "")),
            description=str(properties.get("description", "")),
            files=list(
                zip(properties.get("paths") or [], properties.get("texts") or [], strict=False)
            ),
            part=properties.get("part"),
            part_imports=json.loads(imports) if imports else None,
            requirement_kinds=list(properties.get("requirement_kinds") or []),
            spec_hash=str(properties.get("spec_hash", "")),
            spec_name=str(properties.get("spec_name", "")),
            run_id=str(properties.get("run_id", "")),
            uses=int(properties.get("uses") or 0),
            successes=int(properties.get("successes") or 0),
            failures=int(properties.get("failures") or 0),
            last_used=str(properties.get("last_used", "")),
        )


def imports_to_json(imports: Imports) -> dict[str, Any]:
    return {
        "names": {module: sorted(names) for module, names in sorted(imports.names.items())},
        "modules": sorted(imports.modules),
        "typing_only": {
            module: sorted(names) for module, names in sorted(imports.typing_only.items())
        },
    }


def imports_from(data: dict[str, Any]) -> Imports:
    return Imports(
        names={module: set(names) for module, names in (data.get("names") or {}).items()},
        modules=set(data.get("modules") or []),
        typing_only={
            module: set(names) for module, names in (data.get("typing_only") or {}).items()
        },
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
