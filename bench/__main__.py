"""`python -m bench <benchmark> [options]`: run one benchmark (see bench/README.md)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "parse": ("bench.parse", "phases 1-2: compile_spec on the examples and a 2,000-line spec"),
    "plan": ("bench.plan", "phases 1-5: compile and plan the examples and a synthetic spec"),
    "generate": ("bench.generate", "phases 1-6: generate the app and its tests from each spec"),
    "pipeline": ("bench.pipeline", "the orchestrator's own overhead per task"),
    "verify": ("bench.verify", "phases 7-10 on generated apps against their suites alone"),
    "lsp": ("bench.lsp", "the language server over stdio: start-up, edits, requests, generate"),
    "retrieval": ("bench.retrieval", "pattern retrieval on the embedded vector stores"),
    "recall": ("bench.recall", "the pattern bank's embedders on a labelled retrieval set"),
    "learning": ("bench.learning", "phase 11's share of a trusted run, and opening the library"),
    "load": ("bench.load", "N editors over WebSocket on one server: throughput, latency, memory"),
}


def usage() -> str:
    lines = ["usage: python -m bench <benchmark> [options]", "", "benchmarks:"]
    lines += [f"  {name:<8} {summary}" for name, (_, summary) in BENCHMARKS.items()]
    lines += ["", "python -m bench <benchmark> --help shows a benchmark's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in BENCHMARKS:
        print(f"bench: unknown benchmark {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[name][0])
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
