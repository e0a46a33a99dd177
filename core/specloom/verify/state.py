"""What the verify phases of one run share: the app's directory, the generated tree to
repair from, the app's interpreter and database, and the latest findings of each check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specloom.verify.findings import Check, Finding

if TYPE_CHECKING:
    from specloom.verify.health import Launched


@dataclass
class VerifyState:
    app_dir: Path  # the app being verified (the run's staging tree, or an existing output)
    reference: dict[str, str] = field(default_factory=dict)  # path -> text as generated
    python: str = ""  # the interpreter that runs the app and its checks (phase 7)
    database_url: str = ""  # the app's DATABASE_URL (phase 7)
    # where the app's processes keep byte-compiled files: the workspace's cache (the
    # libraries' bytecode is kept across runs; the app's is dropped at each deployment
    # and for each module a repair rewrites) (phase 7)
    pycache: Path | None = None
    # the app started for phase 10 while phase 9 validated the same files (or None)
    launched: Launched | None = None
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    findings: dict[Check, list[Finding]] = field(default_factory=dict)
    summary: dict[Check, dict[str, Any]] = field(default_factory=dict)  # figures per check
    iteration: int = 0  # verify passes done (1 before any repair)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # repair attempts
    # the last attempt, to roll it back: files as they were, findings as they were
    undo: dict[str, str | None] = field(default_factory=dict)
    findings_before: dict[Check, list[Finding]] = field(default_factory=dict)
    summary_before: dict[Check, dict[str, Any]] = field(default_factory=dict)
    exhausted: bool = False  # no more attempts (one made things worse)
    model_tried: bool = False  # the language-model strategy had its one try this run

    def report(self, check: Check, findings: list[Finding], **figures: Any) -> None:
        """The latest result of a check replaces its earlier one."""
        self.findings[check] = findings
        self.summary[check] = figures

    def blocking(self) -> list[Finding]:
        return [f for found in self.findings.values() for f in found if f.blocking]

    async def clean_up(self) -> list[str]:
        """Run and forget the cleanups (last registered first); the errors of those that
        failed, as lines."""
        errors: list[str] = []
        while self.cleanups:
            cleanup = self.cleanups.pop()
            try:
                await cleanup()
            except Exception as error:  # one failing cleanup must not stop the others
                errors.append(f"{type(error).__name__}: {error}")
        return errors

    @property
    def clean(self) -> bool:
        return not self.blocking()
