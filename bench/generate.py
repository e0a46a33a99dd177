"""Benchmark of phases 1 to 6: compile a spec, plan it, generate the application and
its tests (rendered, formatted with ruff, traced), all in memory.

Times every example spec and the synthetic spec of 60 entities and 800 endpoints from
`bench/plan.py`, and checks the target: phases 1 to 6 under 3 s for the synthetic spec.
Writing the files to disk is not timed (the pipeline stages them; that is I/O).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

from specloom.codegen.generator import Generator
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec

from bench import stats
from bench.plan import SYNTHETIC_ENDPOINTS, SYNTHETIC_ENTITIES, check_synthetic, synthetic_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TARGET_MS = 3000.0
PHASES = ("compile", "plan", "render", "format+trace")


@dataclass
class Result:
    name: str
    files: int = 0
    python_lines: int = 0
    totals_ms: list[float] = field(default_factory=list)
    parts_ms: dict[str, list[float]] = field(default_factory=dict)

    def part(self, name: str) -> float:
        return stats.median(self.parts_ms[name])


def measure(name: str, text: str, runs: int) -> Result:
    result = Result(name)
    for _ in range(runs):
        marks = [time.perf_counter()]
        compiled = compile_spec(text, name)
        marks.append(time.perf_counter())
        plan, _ = make_plan(compiled.ir, "bench")
        marks.append(time.perf_counter())
        generator = Generator(compiled.ir, plan, spec_name=name)
        by_id = {task.id: task for task in plan.tasks}
        for level in plan.levels:
            for task_id in level:
                generator.perform(by_id[task_id])
        marks.append(time.perf_counter())
        tree = generator.finish()
        marks.append(time.perf_counter())
        for phase, start, end in zip(PHASES, marks, marks[1:], strict=False):
            result.parts_ms.setdefault(phase, []).append((end - start) * 1000)
        result.totals_ms.append((marks[-1] - marks[0]) * 1000)
        result.files = len(tree)
        result.python_lines = sum(
            text.count("\n") for path, text in tree.items() if path.endswith(".py")
        )
    return result


def report(results: list[Result], runs: int) -> None:
    print(f"phases 1-6 (compile, plan, generate app and tests, format, trace), {runs} runs each")
    parts = " ".join(f"{name:>13}" for name in PHASES)
    print(f"{'input':<24} {'files':>6} {'py lines':>9} {'median ms':>10} {'p95 ms':>8}  {parts}")
    for r in results:
        split = " ".join(f"{r.part(name):>13.0f}" for name in PHASES)
        print(
            f"{r.name:<24} {r.files:>6} {r.python_lines:>9,} {stats.median(r.totals_ms):>10.0f} "
            f"{stats.p95(r.totals_ms):>8.0f}  {split}"
        )
    print("(the last four columns are the median ms of each part)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench generate", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per input (default 3)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    results = [
        measure(path.name, path.read_text(encoding="utf-8"), runs)
        for path in sorted(EXAMPLES.glob("*.spec.md"))
        if path.name != "prose.spec.md"
    ]
    text = synthetic_spec()
    check_synthetic(text)
    synthetic = measure(f"synthetic {SYNTHETIC_ENTITIES}e/{SYNTHETIC_ENDPOINTS}ep", text, runs)
    report([*results, synthetic], runs)
    median = stats.median(synthetic.totals_ms)
    met = median < TARGET_MS
    print(
        f"target: phases 1 to 6 under 3 s for {SYNTHETIC_ENTITIES} entities and "
        f"{SYNTHETIC_ENDPOINTS} endpoints: {'met' if met else 'MISSED'} (median {median:.0f} ms, "
        f"p95 {stats.p95(synthetic.totals_ms):.0f} ms)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
