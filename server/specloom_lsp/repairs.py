"""What the repair actions offer and how each is checked, without the protocol: the
findings of a run's last verify pass, the reference tree rendered from the spec, one fix
per generated file with findings (the deterministic strategies' patch), the test
modules a fix affects, and the check that runs them on a copy of the app."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from specloom.pipeline.cancel import CancelToken
    from specloom.pipeline.records import RunRecord
    from specloom.verify.findings import Finding

CHECK_SECONDS = 300.0  # the time limit of one check's test run
IGNORED = (
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".specloom",
    ".git",
    ".venv",
    "*.db",
)
WHAT = {
    "restore-files": "restore the deleted file {path}",
    "restore-imports": "restore the generated imports of {path}",
    "restore-lines": "restore the generated lines of {path}",
    "restore-module": "restore the generated module {path}",
}


@dataclass
class Fix:
    """The repair of the findings on one generated file."""

    file: str
    """The file with the findings, relative to the app."""
    changes: dict[str, str | None]
    """path -> new text (None: delete), as the strategies propose."""
    base: dict[str, str | None]
    """path -> the text the patch was proposed against (None: absent)."""
    strategies: dict[str, list[str]]
    findings: list[Finding]

    @property
    def key(self) -> str:
        """Fixes with the same patch share one check."""
        digest = hashlib.sha256()
        for path in sorted(self.changes):
            digest.update(path.encode() + b"\0" + (self.changes[path] or "").encode() + b"\0")
        return digest.hexdigest()

    def describe(self) -> str:
        parts = [
            WHAT.get(strategy, strategy + " {path}").format(path=path)
            for strategy, paths in self.strategies.items()
            for path in paths
        ]
        return "Repair: " + "; ".join(parts)


def run_findings(record: RunRecord) -> list[Finding]:
    """The blocking findings on files of the last verify pass of a run."""
    from specloom.verify.findings import last_pass

    return [finding for finding in last_pass(record) if finding.blocking and finding.file]


def interpreter_of(record: RunRecord) -> str:
    """The interpreter phase 7 chose for the app; empty when it did not run."""
    deployment = record.phase(7)
    if deployment is None or deployment.status != "passed":
        return ""
    return str(deployment.detail.get("python") or "")


def render_reference(data: bytes, spec_name: str) -> dict[str, str]:
    """Phases 1 to 6 in memory: the tree the spec generates, path -> text."""
    from specloom.codegen.bank import MemoryPatternBank
    from specloom.codegen.generator import Generator
    from specloom.plan.dag import make_plan
    from specloom.spec.compiler import compile_spec

    result = compile_spec(data, spec_name)
    if not result.ok or result.ir is None:
        return {}
    plan, _problems = make_plan(result.ir, hashlib.sha256(data).hexdigest())
    return Generator(result.ir, plan, spec_name=spec_name, bank=MemoryPatternBank()).generate()


def propose_fixes(out_dir: Path, reference: dict[str, str], findings: list[Finding]) -> list[Fix]:
    """One fix per generated file with findings: what the strategies propose for them."""
    from specloom.verify.repair import propose
    from specloom.verify.state import VerifyState

    if not reference:
        return []
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    fixes: list[Fix] = []
    for path, about in by_file.items():
        if path not in reference:
            continue  # the user's own file: never repaired
        state = VerifyState(app_dir=out_dir, reference=reference)
        for finding in about:
            state.findings.setdefault(finding.check, []).append(finding)
        patch = propose(state)
        if not patch:
            continue
        base = {changed: _read(out_dir / changed) for changed in patch.changes}
        fixes.append(Fix(path, dict(patch.changes), base, dict(patch.reasons), about))
    return fixes


def affected_tests(fix: Fix, reference: dict[str, str]) -> list[str]:
    """The test modules a fix affects: those the trace map links to its findings'
    requirements, and the failing tests' own modules."""
    import json

    from specloom.verify.traceindex import TRACE_FILE, TraceIndex

    try:
        trace = TraceIndex.of(json.loads(reference.get(TRACE_FILE, "{}")))
    except ValueError:
        trace = TraceIndex()
    modules: list[str] = []
    for finding in fix.findings:
        if finding.check == "tests" and finding.file.startswith("tests/"):
            modules.append(finding.file)
        for places in trace.by_path.values():
            modules += [
                p.path for p in places if p.test and p.requirement_id == finding.requirement_id
            ]
    return sorted({m for m in modules if m in reference and Path(m).name.startswith("test_")})


async def check_fix(
    fix: Fix, out_dir: Path, reference: dict[str, str], python: str, cancel: CancelToken
) -> tuple[bool, str]:
    """Apply the fix to a copy of the app and run the tests it affects (all of them when
    the trace map links none): whether they pass, and a line saying how it went."""
    import json

    from specloom.verify.checks.suite import check_tests
    from specloom.verify.repair import Patch, apply
    from specloom.verify.sandbox import Limits
    from specloom.verify.state import VerifyState
    from specloom.verify.traceindex import TRACE_FILE, TraceIndex

    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="specloom-repair-check-"))
    try:
        copy = scratch / "app"
        await asyncio.to_thread(
            shutil.copytree, out_dir, copy, ignore=shutil.ignore_patterns(*IGNORED)
        )
        apply(VerifyState(app_dir=copy), Patch(changes=dict(fix.changes)))
        modules = affected_tests(fix, reference)
        trace = TraceIndex.of(json.loads(reference.get(TRACE_FILE, "{}")))
        result = await check_tests(
            copy,
            python,
            f"sqlite:///{scratch / 'app.db'}",
            paths=modules,
            limits=Limits(seconds=CHECK_SECONDS),
            cancel=cancel,
            trace=trace,
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
    tests = int(result.figures.get("tests", 0))
    failed = len(result.errors)
    scope = ", ".join(modules) if modules else "the whole suite"
    if failed or not tests:
        return False, f"{failed} of {tests} tests fail in {scope}"
    return True, f"{tests} tests pass"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
