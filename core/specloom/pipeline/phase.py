"""The one interface every phase implements, and what a phase works on.

The orchestrator knows phases only through this: a number, a key, a name, whether
the phase exists in this version, `run` to do its work, and `restore` to rebuild
its in-memory result when a run is resumed after the phase had passed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import networkx as nx

from specloom.ir.application import ApplicationIR
from specloom.pipeline.cancel import CancelToken
from specloom.pipeline.events import EventBus
from specloom.pipeline.records import PhaseStatus, RunRecord
from specloom.pipeline.scheduler import RetryPolicy
from specloom.pipeline.staging import Staging
from specloom.plan.model import Plan, Task
from specloom.spec.diagnostics import Diagnostic, DiagnosticSink
from specloom.store.base import RunStore
from specloom.verify.settings import VerifySettings
from specloom.verify.state import VerifyState

if TYPE_CHECKING:
    from specloom.codegen.incremental import Affected

Mode = Literal["generate", "validate"]


@dataclass
class PipelineSettings:
    """How a run runs: parallel tasks per level, the retry policy, the verify loop."""

    concurrency: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    verify: VerifySettings = field(default_factory=VerifySettings)


@dataclass
class RunContext:
    """Everything one run's phases share. Phases fill in `ir`, `tasks`, `plan`, ..."""

    run: RunRecord
    spec_path: Path
    spec_bytes: bytes
    workspace: Path
    out_dir: Path
    staging: Staging
    cancel: CancelToken
    store: RunStore
    settings: PipelineSettings
    bus: EventBus
    percent: Callable[[int, float], float]  # (phase number, fraction of it done) -> run %
    ir: ApplicationIR | None = None
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)
    tasks: list[Task] = field(default_factory=list)
    plan: Plan | None = None
    graph: nx.DiGraph[str] | None = None
    done_tasks: set[str] = field(default_factory=set)
    # the app phases 7 to 10 verify (phase 6 stages it; `validate` names an existing one)
    app_dir: Path | None = None
    generated: dict[str, str] = field(default_factory=dict)  # path -> text as generated
    verify: VerifyState | None = None
    mode: Mode = "generate"
    rendered: dict[str, Any] = field(default_factory=dict)
    """task id -> what phase 6 produced for it (`specloom.codegen.bank.Rendered`)"""
    library: Any = None
    """the workspace's pattern library (`specloom.patterns.bank.PatternLibrary`), opened
    by phase 6 for the run, or None"""
    library_problem: str = ""
    """why there is no library for the run (off, or a store that could not be opened)"""
    affected: Affected | None = None
    """What this generation changed since the last verified one (None: everything is
    verified, as on a first run)."""

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.sink.sorted()


@dataclass
class PhaseOutcome:
    status: PhaseStatus
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class Phase(ABC):
    """One of the 11 phases."""

    number: ClassVar[int]
    key: ClassVar[str]
    name: ClassVar[str]
    available: ClassVar[bool] = True
    unavailable_reason: ClassVar[str] = ""

    @abstractmethod
    async def run(self, ctx: RunContext) -> PhaseOutcome:
        """Do the phase's work; raise Cancelled when the run is cancelled."""

    async def restore(self, ctx: RunContext) -> None:  # noqa: B027 - optional hook
        """Rebuild what `run` leaves in the context, for a resumed run (default: nothing)."""


class UnavailablePhase(Phase):
    """A phase this version of Specloom does not have yet. It says so in the run
    record, and is never counted as passed."""

    available = False

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        return PhaseOutcome("unavailable", self.unavailable_reason)
