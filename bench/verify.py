"""Benchmark of the verify loop (phases 7 to 10) against the generated suite alone.

For each spec: generate the app once (not timed), then
- run the app's own test suite alone, as a user would (`python -m pytest -q`), and
- run `specloom validate` on it (phases 1 to 6 render the reference, then deployment,
  validation, health; no repair is needed on a clean app), timing phases 7 to 10 from
  the run record, in three states of mypy's cache:
  - first on the machine: no workspace cache and no machine seed (`XDG_CACHE_HOME`
    points to an empty directory): mypy analyses FastAPI, pydantic and SQLAlchemy;
  - new workspace: no workspace cache, the machine seed the first run left;
  - warm: the same workspace again (the median of `--runs` runs).

Target: the whole verify loop under 1.5 times the suite's own run time (checked for
a new workspace and warm; the first run on a machine is reported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from specloom.codegen.generator import Generator
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import PipelineSettings
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec
from specloom.store.urls import open_store

from bench import stats

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TARGET_RATIO = 1.5
DEFAULT_SPECS = ("library.spec.md", "todo.spec.md", "shop.spec.md")


@dataclass
class Result:
    name: str
    tests: int = 0
    suite_s: list[float] = field(default_factory=list)
    cold_s: float = 0.0  # phases 7-10, no mypy cache and no machine seed
    seeded_s: float = 0.0  # phases 7-10, a new workspace, the machine seed there
    warm_s: list[float] = field(default_factory=list)  # phases 7-10, mypy cache warm
    # phases 7-10 of `specloom validate` in a new process (its warm interpreter starts
    # with it), the workspace's mypy cache warm
    cli_s: list[float] = field(default_factory=list)
    phases_s: dict[int, list[float]] = field(default_factory=dict)
    status: str = ""


def generate(spec: Path, out: Path) -> None:
    compiled = compile_spec(spec.read_text(encoding="utf-8"))
    plan, _ = make_plan(compiled.ir, "bench")
    tree = Generator(compiled.ir, plan, spec_name=spec.name).generate()
    for path, text in tree.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def suite_seconds(app: Path, database: Path) -> tuple[float, int]:
    database.unlink(missing_ok=True)
    report = database.with_suffix(".xml")
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=app,
        capture_output=True,
        text=True,
        check=False,
        # as the verify loop runs it: no pytest plugin of this environment (pytest-lsp,
        # hypothesis...) loaded, which a user's app environment would not have either
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{database}",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        },
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"the suite of {app} fails:\n{done.stdout[-2000:]}")
    suites = ElementTree.parse(report).getroot().iter("testsuite")
    return seconds, sum(int(suite.get("tests", 0)) for suite in suites)


async def verify_seconds(spec: Path, app: Path, workspace: Path) -> tuple[dict[int, float], str]:
    settings = PipelineSettings()
    settings.verify.trusted = True
    store = await open_store(None, workspace)
    try:
        run = await Orchestrator(store, settings=settings).run(
            spec, app, workspace, mode="validate"
        )
    finally:
        await store.close()
    durations = {p.number: (p.duration_ms or 0.0) / 1000 for p in run.phases if 7 <= p.number <= 10}
    return durations, run.status


def cli_seconds(spec: Path, app: Path, workspace: Path) -> float:
    """Phases 7 to 10 of `specloom validate --trust` run as a command (a new process)."""
    specloom = str(Path(sys.executable).with_name("specloom"))  # the console script
    command = [specloom, "validate", str(spec), "--out", str(app)]
    done = subprocess.run(
        [*command, "--workspace", str(workspace), "--trust", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        record = json.loads(done.stdout)
    except ValueError as error:
        message = f"specloom validate printed no run record:\n{done.stderr[-2000:]}"
        raise SystemExit(message) from error
    return sum(
        (p.get("duration_ms") or 0.0) / 1000
        for p in record.get("phases", [])
        if 7 <= p.get("number", 0) <= 10
    )


def measure(spec: Path, runs: int) -> Result:
    result = Result(spec.name)
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as temporary:
        root = Path(temporary)
        app = root / "app"
        os.environ["XDG_CACHE_HOME"] = str(root / "xdg")  # no machine seed yet
        try:
            generate(spec, app)
            for _ in range(runs):
                seconds, result.tests = suite_seconds(app, root / "suite.db")
                result.suite_s.append(seconds)
            for number, name in enumerate(["first", "second"] + ["second"] * runs):
                workspace = root / name
                workspace.mkdir(exist_ok=True)
                durations, result.status = asyncio.run(verify_seconds(spec, app, workspace))
                total = sum(durations.values())
                if number == 0:
                    result.cold_s = total
                elif number == 1:
                    result.seeded_s = total
                else:
                    result.warm_s.append(total)
                    for phase, value in durations.items():
                        result.phases_s.setdefault(phase, []).append(value)
            for _ in range(runs):
                result.cli_s.append(cli_seconds(spec, app, root / "second"))
        finally:
            if saved is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = saved
    return result


def report(results: list[Result], runs: int) -> bool:
    print(f"verify loop (phases 7-10) vs the generated suite alone, {runs} runs each")
    head = (
        f"{'spec':<18} {'tests':>5} {'suite s':>8} {'1st on machine':>15} "
        f"{'new workspace':>14} {'warm':>6} {'command':>8}"
    )
    print(f"{head}  ratios (machine / workspace / warm / command)   warm s: 7 / 8 / 9 / 10")
    met = True
    for r in results:
        suite = stats.median(r.suite_s)
        warm = stats.median(r.warm_s)
        command = stats.median(r.cli_s)
        ratios = [r.cold_s / suite, r.seeded_s / suite, warm / suite, command / suite]
        met = met and max(ratios[1:3]) < TARGET_RATIO and r.status in ("passed", "incomplete")
        split = " / ".join(f"{stats.median(r.phases_s.get(n, [0.0])):.2f}" for n in (7, 8, 9, 10))
        print(
            f"{r.name:<18} {r.tests:>5} {suite:>8.2f} {r.cold_s:>15.2f} {r.seeded_s:>14.2f} "
            f"{warm:>6.2f} {command:>8.2f}  {' / '.join(f'{x:.2f}' for x in ratios):<46} "
            f"{split} {r.status}"
        )
    print(
        "(1st on machine: no mypy cache anywhere; new workspace: seeded from the machine's"
        " cache; warm: the median of the workspace's next runs, in this process as in the"
        " language server; command: `specloom validate` as a new process, warm mypy cache,"
        " reported)"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench verify", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per spec (default 3)")
    parser.add_argument("specs", nargs="*", default=list(DEFAULT_SPECS), help="example specs")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    results = [measure(EXAMPLES / name, runs) for name in args.specs]
    met = report(results, runs)
    verdict = "met" if met else "MISSED"
    print(
        f"target: verify loop under {TARGET_RATIO} times the suite's own time"
        f" (new workspace and warm): {verdict}"
    )
    return 0
