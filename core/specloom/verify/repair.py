"""Phase 8, repair: make the app pass its checks again, within bounds.

The compiler is deterministic, so the generated tree of the spec (`VerifyState.reference`)
is what every generated file should hold. The deterministic strategies put back what a
finding shows was lost from it, narrowest first:

1. `restore-files`: a generated file that is missing (deleted) is written again;
2. `restore-imports`: the import block of a module with a name or import error;
3. `restore-lines`: the lines around each finding (and the code of the requirement it
   names) that differ from the generated tree, and nothing else of the file;
4. `restore-module`: a whole generated module that still fails.

An attempt applies what the strategies propose, then the loop validates and checks
health again. An attempt that leaves more blocking findings than before is rolled back;
one that does not improve ends the loop; at most `repair_attempts` attempts. Every
attempt is recorded: strategies, files changed (lines added and removed), and its
effect. A file the generator never wrote (the user's own) is never touched: its
findings are reported, not repaired.

When the deterministic strategies have nothing left to propose, the language-model
strategy (`model_repair.py`) is tried once per run, where an API key is configured:
its patch is applied the same way, and kept only if the app then passes its checks.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from specloom.pipeline.phase import Phase, PhaseOutcome, RunContext
from specloom.verify.findings import Finding
from specloom.verify.state import VerifyState
from specloom.verify.traceindex import TRACE_FILE, TraceIndex

NAME_ERRORS = re.compile(
    r"\b(F821|F401|name-defined|attr-defined|import-not-found|import-untyped|"
    r"NameError|ImportError|ModuleNotFoundError|cannot import name)\b"
)


@dataclass
class Patch:
    """New contents of files (None: delete), with the strategy behind each change."""

    changes: dict[str, str | None] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)  # strategy -> paths

    def add(self, strategy: str, path: str, text: str | None) -> None:
        self.changes[path] = text
        paths = self.reasons.setdefault(strategy, [])
        if path not in paths:
            paths.append(path)

    def __bool__(self) -> bool:
        return bool(self.changes)


class Strategy(Protocol):
    name: str

    def propose(self, findings: list[Finding], files: AppFiles, patch: Patch) -> None:
        """Add to `patch` what this strategy would change for these findings."""


class AppFiles:
    """The app's files on disk next to the generated tree, as repair sees them."""

    def __init__(self, state: VerifyState) -> None:
        self.root = state.app_dir
        self.reference = state.reference
        trace = state.reference.get(TRACE_FILE)
        self.trace = TraceIndex.of(_json(trace)) if trace else TraceIndex.load(self.root)

    def current(self, path: str) -> str | None:
        target = self.root / path
        try:
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def generated(self, path: str) -> bool:
        return path in self.reference

    def differs(self, path: str, patch: Patch) -> bool:
        now = patch.changes.get(path, self.current(path))
        return self.generated(path) and now != self.reference[path]

    def text(self, path: str, patch: Patch) -> str:
        proposed = patch.changes.get(path)
        if proposed is not None:
            return proposed
        return self.current(path) or ""


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def restore_lines(current: str, reference: str, keep: list[tuple[int, int]] | None) -> str:
    """`current` with the differences from `reference` undone, only in the changes that
    touch the line ranges of `keep` (0-based, end exclusive, in `current`'s lines); all
    of them when `keep` is None. Changes at most two equal lines apart count as one, so a
    line replaced is restored whole however the diff aligns it."""
    ours = current.splitlines(keepends=True)
    theirs = reference.splitlines(keepends=True)
    opcodes = difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False).get_opcodes()
    groups: list[int] = []  # the change group of each opcode (-1: equal lines)
    group = 0
    for tag, i1, i2, _, _ in opcodes:
        if tag == "equal":
            groups.append(-1)
            if i2 - i1 > 2:
                group += 1
        else:
            groups.append(group)

    def touches(i1: int, i2: int) -> bool:
        low, high = i1, max(i2, i1 + 1)  # an insertion point counts as the line it precedes
        return keep is None or any(low <= end and start < high for start, end in keep)

    touched = {
        g
        for g, (tag, i1, i2, _, _) in zip(groups, opcodes, strict=True)
        if g >= 0 and touches(i1, i2)
    }
    out: list[str] = []
    for g, (_, i1, i2, j1, j2) in zip(groups, opcodes, strict=True):
        out += theirs[j1:j2] if g in touched else ours[i1:i2]
    return "".join(out)


def header_end(text: str) -> int:
    """The number of lines before a module's first top-level def or class."""
    for number, line in enumerate(text.splitlines()):
        if line.startswith(("def ", "class ", "async def ", "@")):
            return number
    return len(text.splitlines())


class RestoreFiles:
    name = "restore-files"

    def propose(self, findings: list[Finding], files: AppFiles, patch: Patch) -> None:
        for path, text in files.reference.items():
            if path != TRACE_FILE and files.current(path) is None and path not in patch.changes:
                patch.add(self.name, path, text)


class RestoreImports:
    name = "restore-imports"

    def propose(self, findings: list[Finding], files: AppFiles, patch: Patch) -> None:
        for finding in findings:
            if not NAME_ERRORS.search(f"{finding.kind} {finding.message}"):
                continue
            for path in paths_of(finding, files):
                if not files.differs(path, patch):
                    continue
                text = files.text(path, patch)
                keep = [(0, max(header_end(text), header_end(files.reference[path])))]
                fixed = restore_lines(text, files.reference[path], keep)
                if fixed != text:
                    patch.add(self.name, path, fixed)


class RestoreLines:
    name = "restore-lines"

    def propose(self, findings: list[Finding], files: AppFiles, patch: Patch) -> None:
        ranges: dict[str, list[tuple[int, int]]] = {}
        for finding in findings:
            if finding.file and finding.range is not None and files.generated(finding.file):
                start, end = finding.range.start.line, finding.range.end.line
                ranges.setdefault(finding.file, []).append((start, max(end, start + 1)))
            if finding.requirement_id:
                for place in files.trace.code_of(finding.requirement_id):
                    start, end = place.span.start.line, place.span.end.line
                    ranges.setdefault(place.path, []).append((start, max(end, start + 1)))
        for path, keep in ranges.items():
            if not files.differs(path, patch):
                continue
            text = files.text(path, patch)
            fixed = restore_lines(text, files.reference[path], keep)
            if fixed != text:
                patch.add(self.name, path, fixed)


class RestoreModule:
    name = "restore-module"

    def propose(self, findings: list[Finding], files: AppFiles, patch: Patch) -> None:
        for finding in findings:
            for path in paths_of(finding, files):
                if files.differs(path, patch):
                    patch.add(self.name, path, files.reference[path])


def paths_of(finding: Finding, files: AppFiles) -> list[str]:
    """The generated files a finding is about: its own, and those of its requirement's
    code (a failing test points at the code it tests)."""
    paths = [finding.file] if finding.file and files.generated(finding.file) else []
    if finding.requirement_id:
        paths += [p.path for p in files.trace.code_of(finding.requirement_id)]
    for match in re.finditer(r"\b(app/[\w/]+\.py)", finding.message):
        paths.append(match.group(1))
    for match in re.finditer(r"\b(app(?:\.\w+)+)\b", finding.message):  # a module named
        paths.append(match.group(1).replace(".", "/") + ".py")
    return [p for p in dict.fromkeys(paths) if files.generated(p)]


DETERMINISTIC: tuple[Strategy, ...] = (
    RestoreFiles(),
    RestoreImports(),
    RestoreLines(),
    RestoreModule(),
)


def propose(state: VerifyState, strategies: tuple[Strategy, ...] = DETERMINISTIC) -> Patch:
    """What the strategies would change for the current blocking findings. The narrower
    strategies go first; a broader one is used for a finding only if the narrower ones
    left its files as they are."""
    files = AppFiles(state)
    findings = state.blocking()
    patch = Patch()
    for strategy in strategies:
        if strategy.name == "restore-module" and patch:
            break  # try the narrow changes first; the next attempt goes wider if needed
        strategy.propose(findings, files, patch)
    return patch


def apply(state: VerifyState, patch: Patch) -> dict[str, str | None]:
    """Write the patch into the app; returns what each file held before (None: absent)."""
    before: dict[str, str | None] = {}
    for path, text in patch.changes.items():
        target = _inside(state.app_dir, path)
        before[path] = target.read_text(encoding="utf-8") if target.exists() else None
        if text is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        forget_bytecode(state, target)
    return before


def forget_bytecode(state: VerifyState, source: Path) -> None:
    """Drop the byte-compiled files of a source the loop rewrote. Python trusts a
    cached module while the source's size and modification time (whole seconds) match:
    a repair that keeps the size within the second it was compiled (`200` for `201`)
    would otherwise run the old code."""
    if state.pycache is None or source.suffix != ".py":
        return
    folder = state.pycache / source.resolve().parent.relative_to(source.resolve().anchor)
    for cached in folder.glob(f"{source.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def _inside(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"'{relative}' is outside the app")
    return target


def line_changes(before: str | None, after: str | None) -> dict[str, int]:
    old = (before or "").splitlines()
    new = (after or "").splitlines()
    added = removed = 0
    for line in difflib.ndiff(old, new):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return {"added": added, "removed": removed}


class Repair(Phase):
    """Phase 8. Run by the orchestrator before the first validation (nothing to do then)
    and again after a validation or health check that failed, while `loop_back` says so."""

    number, key, name = 8, "repair", "code repair"
    strategies: ClassVar[tuple[Strategy, ...]] = DETERMINISTIC

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        state = ctx.verify
        if state is None:
            return PhaseOutcome("skipped", "no app to repair: phase 7 did not run")
        if state.iteration == 0:
            return PhaseOutcome("skipped", "nothing to repair yet: the app is checked next")
        findings = state.blocking()
        if not findings:
            return PhaseOutcome("skipped", "nothing to repair")
        patch = propose(state, self.strategies)
        model: dict[str, Any] | None = None
        if not patch:
            model = await self._ask_model(ctx, state, findings, patch)
        if not patch:
            message = f"{len(findings)} finding(s) out of reach of the repair strategies"
            if model is not None and model.get("problem"):
                message += f"; the language model: {model['problem']}"
            detail: dict[str, Any] = {"attempts": state.attempts}
            if model is not None:
                detail["model"] = model
            return PhaseOutcome("failed", message, detail)
        before = apply(state, patch)
        attempt: dict[str, Any] = {
            "attempt": len(state.attempts) + 1,
            "strategies": dict(patch.reasons),
            "files": {
                path: line_changes(before[path], text) for path, text in patch.changes.items()
            },
            "findings_before": len(findings),
            "effect": "pending",
        }
        if model is not None:
            attempt["model"] = model
        state.attempts.append(attempt)
        state.undo = before
        state.findings_before = {check: list(found) for check, found in state.findings.items()}
        state.summary_before = dict(state.summary)
        await ctx.store.audit(ctx.run.id, "repair.attempt", attempt)
        changed = ", ".join(sorted(patch.changes))
        return PhaseOutcome(
            "passed",
            f"attempt {attempt['attempt']}: {len(patch.changes)} file(s) changed ({changed})",
            {"attempts": state.attempts},
        )

    async def loop_back(self, ctx: RunContext) -> int | None:
        """After a pass of validation and health that found problems: the phase to go back
        to (8 for another attempt, 9 to check the app again after a rollback), or None."""
        state = ctx.verify
        if state is None:
            return None
        if state.attempts and state.attempts[-1]["effect"] == "pending":
            last = state.attempts[-1]
            after = len(state.blocking())
            last["findings_after"] = after
            if "model" in last["strategies"] and not state.clean:
                # the model's patch is kept only if the app now passes its checks
                apply_back(state)
                last["effect"] = f"not kept ({after} finding(s) after it): rolled back"
                await ctx.store.audit(ctx.run.id, "repair.rolled_back", last)
                state.exhausted = True
                return 9
            if after > last["findings_before"]:
                apply_back(state)
                last["effect"] = f"worse ({last['findings_before']} -> {after}): rolled back"
                await ctx.store.audit(ctx.run.id, "repair.rolled_back", last)
                state.exhausted = True
                return 9
            if after == last["findings_before"]:
                last["effect"] = f"no improvement ({after} finding(s))"
                await ctx.store.audit(ctx.run.id, "repair.result", last)
                return None
            last["effect"] = f"improved ({last['findings_before']} -> {after})"
            await ctx.store.audit(ctx.run.id, "repair.result", last)
        if state.clean or state.exhausted:
            return None
        if len(state.attempts) >= ctx.settings.verify.repair_attempts:
            return None
        if not propose(state, self.strategies) and not model_may_try(state):
            await self._out_of_reach(ctx, state)
            return None
        return 8

    async def _out_of_reach(self, ctx: RunContext, state: VerifyState) -> None:
        """Phase 8's record says why the loop ends without another attempt."""
        record = ctx.run.phase(self.number)
        if record is None:
            return
        why = f"{len(state.blocking())} finding(s) out of reach of the repair strategies"
        if not state.model_tried:
            if not model_repair_on():
                why += "; the language model: off (SPECLOOM_MODEL_REPAIR=0)"
            else:
                why += f"; the language model: {NO_KEY}"
        record.message = why
        await ctx.store.save_phase(ctx.run.id, record)

    async def _ask_model(
        self, ctx: RunContext, state: VerifyState, findings: list[Finding], patch: Patch
    ) -> dict[str, Any] | None:
        """The language-model strategy, once per run; what it did (None: not tried)."""
        if state.model_tried:
            return None
        if not model_repair_on():
            return None
        from specloom.llm.client import LanguageModel
        from specloom.llm.errors import LLMError
        from specloom.llm.recording import store_recorder
        from specloom.llm.settings import LLMSettings
        from specloom.store.base import LLMUsageLog
        from specloom.verify.model_repair import propose_with_model

        settings = LLMSettings.from_env()
        if not settings.has_key:
            return {"problem": NO_KEY}
        state.model_tried = True
        recorder = None
        if hasattr(ctx.store, "add_llm_usage"):  # the SQL run store keeps the usage
            recorder = store_recorder(cast("LLMUsageLog", ctx.store), ctx.run.id)
        try:
            model = LanguageModel(settings, recorder=recorder)
        except LLMError as error:
            return {"problem": str(error)}
        try:
            done = await propose_with_model(ctx, findings, AppFiles(state), patch, model)
        finally:
            await model.aclose()
        return asdict(done)


NO_KEY = "not tried: no Anthropic API key (ANTHROPIC_API_KEY)"
"""Why phase 8 did not ask the language model, when no key is configured."""


def model_repair_on() -> bool:
    """The language-model strategy is on unless `SPECLOOM_MODEL_REPAIR` says off."""
    value = os.environ.get("SPECLOOM_MODEL_REPAIR", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def model_may_try(state: VerifyState) -> bool:
    """Whether the language-model strategy may still make an attempt this run."""
    if state.model_tried:
        return False
    if not model_repair_on():
        return False
    from specloom.llm.settings import LLMSettings

    return LLMSettings.from_env().has_key


def apply_back(state: VerifyState) -> None:
    """Undo the last attempt: its files as they were, its findings as they were."""
    for path, text in state.undo.items():
        target = _inside(state.app_dir, path)
        if text is None:
            target.unlink(missing_ok=True)
        else:
            target.write_text(text, encoding="utf-8")
        forget_bytecode(state, target)
    state.undo = {}
    state.findings = state.findings_before
    state.summary = state.summary_before
