"""Phase 11's share of a run: trusted runs of example specs through the orchestrator, in
process, in one new workspace per spec.

    .venv/bin/python -m bench learning [--runs 3] [SPEC...]

For each spec the first run learns every pattern (all new), the later ones confirm
them (phase 6 reuses them from the library). Each row gives the run's total, phase 11's
time, its share of the run (target: under 5%), and what phase 6 reused; then the time
to open the library (the embedded stores) in a fresh interpreter, which the language
server pays at its first run, never at start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import PipelineSettings
from specloom.store.urls import open_store

from bench import stats

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_SPECS = ("library.spec.md", "todo.spec.md")
TARGET_SHARE = 0.05


async def one_run(spec: Path, workspace: Path) -> dict[str, Any]:
    settings = PipelineSettings()
    settings.verify.trusted = True
    store = await open_store(None, workspace)
    try:
        began = time.perf_counter()
        run = await Orchestrator(store, settings=settings).run(spec, workspace / "out", workspace)
        total = (time.perf_counter() - began) * 1000
    finally:
        await store.close()
    learning = run.phase(11)
    generation = run.phase(6)
    return {
        "status": run.status,
        "total": total,
        "learning": learning.duration_ms or 0.0 if learning else 0.0,
        "message": learning.message if learning else "",
        "reuse": (generation.detail.get("reuse") if generation else None) or {},
    }


def open_time() -> float:
    """ms to import the pattern library and open its embedded stores, in a new process."""
    code = (
        "import asyncio, sys, tempfile, time; from pathlib import Path\n"
        "t = time.perf_counter()\n"
        "from specloom.patterns.bank import PatternLibrary\n"
        "async def main():\n"
        "    library = await PatternLibrary.open(Path(tempfile.mkdtemp()))\n"
        "    await library.recall([])\n"
        "    await library.close()\n"
        "asyncio.run(main())\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench learning", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per spec (default 3)")
    parser.add_argument("specs", nargs="*", default=list(DEFAULT_SPECS), help="example specs")
    args = parser.parse_args(argv)
    shares: list[float] = []
    print(f"{'spec':<18} {'run':>3} {'status':<10} {'run ms':>8} {'phase 11 ms':>12} "
          f"{'share':>7}  phase 6 reuse; phase 11")  # fmt: skip
    for name in args.specs:
        workspace = Path(tempfile.mkdtemp(prefix="bench-learning-"))
        (workspace / name).write_bytes((EXAMPLES / name).read_bytes())
        for n in range(max(1, args.runs)):
            result = asyncio.run(one_run(workspace / name, workspace))
            share = result["learning"] / result["total"] if result["total"] else 0.0
            if n > 0 or args.runs == 1:
                shares.append(share)
            reuse = result["reuse"]
            print(
                f"{name:<18} {n + 1:>3} {result['status']:<10} {result['total']:>8.0f} "
                f"{result['learning']:>12.1f} {share:>6.1%}  "
                f"{reuse.get('reused', 0)}/{reuse.get('tasks', 0)} "
                f"({reuse.get('library', 0)} from the library); {result['message']}"
            )
    opens = [open_time() for _ in range(3)]
    print(
        f"import and open the pattern library (embedded stores), new process: "
        f"median {stats.median(opens):.0f} ms, max {max(opens):.0f} ms"
    )
    worst = max(shares) if shares else 0.0
    verdict = "met" if worst < TARGET_SHARE else "MISSED"
    print(
        f"target: phase 11 under {TARGET_SHARE:.0%} of a run (runs after the first, "
        f"worst {worst:.1%}; first runs shown for reference): {verdict}"
    )
    return 0
