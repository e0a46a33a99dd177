"""Benchmark of phases 1 and 2: `compile_spec` (parse + analysis) on every example spec and
on a generated 2,000-line spec, plus the import time of `specloom.spec.compiler`.

    .venv/bin/python -m bench parse [--runs N] [--warmup N] [--lines N] [--strict]

The target: a 2,000-line spec compiles in under 50 ms (median), so the language server
can recompile on every keystroke.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from specloom.spec.compiler import CompileResult, compile_spec

from bench import stats

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TARGET_MS = 50.0
TARGET_LINES = 2000
IMPORT_RUNS = 5

# One block of the generated spec per prefix: five related entities (a client, its
# projects, time entries, invoices and invoice lines) with their endpoints, flows and
# rules, the shape of examples/timesheet.spec.md.
PREFIXES = (
    *("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India"),
    *("Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo"),
    *("Sierra", "Tango", "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu"),
)


# --- the generated spec ---------------------------------------------------------------


class _Ids:
    """Sequential requirement IDs: F1, F2, ... and R1, R2, ..."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count}"


def _prefix(index: int) -> str:
    word = PREFIXES[index % len(PREFIXES)]
    rounds = index // len(PREFIXES)
    return word + "x" * rounds  # one word, so paths and sentences name it as written


def _block(index: int, endpoints: _Ids, rules: _Ids) -> tuple[list[str], ...]:
    """Entities, endpoints, flows and rules of one block."""
    p = _prefix(index)
    w = p.lower()  # the block's word in paths and sentences
    client, project, entry, invoice, line = (
        f"{p}Client",
        f"{p}Project",
        f"{p}Entry",
        f"{p}Invoice",
        f"{p}InvoiceLine",
    )
    v_client, v_project, v_entry, v_invoice = (
        f"{w}_client",
        f"{w}_project",
        f"{w}_entry",
        f"{w}_invoice",
    )
    entities = [
        f"### {client}",
        "",
        f"A client of the {p} office, billed each month for the time logged on its projects.",
        "",
        "- name: string, required, unique, max length 120",
        "- email: email, required, unique",
        "- tier: enum BASIC | GOLD, default BASIC, read-only",
        "- credit: decimal(10,2), default 0, >= 0",
        "- phone: string, optional, pattern `^[0-9+ ]{6,20}$`",
        "- website: url, optional",
        "- created_at: datetime, set on create, read-only",
        "",
        f"### {project}",
        "- code: string, required, unique, pattern `^[A-Z]{3}-[0-9]{3}$`",
        "- title: string, required, length between 3 and 80",
        f"- client: {client}, required",
        "- status: enum ACTIVE | CLOSED, default ACTIVE, read-only",
        "- budget: decimal(12,2), required, > 0",
        "- started_on: date, optional",
        f"- invoices: list of {invoice}",
        "",
        f"### {entry}",
        f"- project: {project}, required",
        "- hours: decimal(5,2), required, > 0, <= 12",
        "- starts_at: datetime, required",
        "- ends_at: datetime, required, after starts_at",
        "- billed: boolean, default false, read-only",
        "- overtime: boolean, default false, read-only",
        "- note: text, optional, max length 2000",
        "",
        f"### {invoice}",
        f"- project: {project}, required",
        "- status: enum DRAFT | SENT, default DRAFT, read-only",
        "- total: decimal(12,2), default 0, read-only",
        f"- lines: list of {line}",
        "- sent_at: datetime, optional, read-only",
        "",
        f"### {line}",
        f"- invoice: {invoice}, required",
        f"- entry: {entry}, required",
        "- amount: decimal(10,2), read-only",
        "",
    ]
    ids = {name: endpoints.next() for name in ("clients", "open", "list", "get", "update")}
    ids |= {name: endpoints.next() for name in ("close", "log", "entries", "delete", "bill")}
    ids |= {name: endpoints.next() for name in ("send", "invoice", "lines", "drop", "upgrade")}
    api = [
        f"- {ids['clients']}. CRUD /{w}-clients: filter by tier, ordered by name",
        f"- {ids['open']}. POST /{w}-projects: open a project",
        f"- {ids['list']}. GET /{w}-projects: list projects, filter by status and client, "
        "paginated (page size 50), ordered by code",
        f"- {ids['get']}. GET /{w}-projects/{{id}}: get a project",
        f"- {ids['update']}. PATCH /{w}-projects/{{id}}: update title, budget, started_on",
        f"- {ids['close']}. POST /{w}-projects/{{id}}/close: close a project",
        f"- {ids['log']}. POST /{w}-entries: log time",
        f"- {ids['entries']}. GET /{w}-projects/{{id}}/{w}-entries: list the entries of a "
        "project, filter by billed, paginated",
        f"- {ids['delete']}. DELETE /{w}-entries/{{id}}: delete an entry",
        f"- {ids['bill']}. POST /{w}-projects/{{id}}/bill: gather unbilled time into the draft "
        "invoice",
        f"- {ids['send']}. POST /{w}-invoices/{{id}}/send: send an invoice",
        f"- {ids['invoice']}. GET /{w}-invoices/{{id}}: get an invoice",
        f"- {ids['lines']}. GET /{w}-invoices/{{id}}/lines: list the lines of an invoice",
        f"- {ids['drop']}. DELETE /{w}-invoices/{{id}}/lines: drop every line of a draft invoice",
        f"- {ids['upgrade']}. POST /{w}-clients/{{id}}/upgrade: upgrade a client",
    ]
    flows = [
        f"### {ids['close']}. Close a project",
        f'- Require {v_project}.status is ACTIVE, else 409 "project is already closed".',
        f"- Require count of {v_project}.invoices with status DRAFT = 0, else 409 "
        '"send or empty the draft invoice first".',
        f"- Set {v_project}.status to CLOSED.",
        "",
        f"### {ids['log']}. Log time",
        "Input: project_id, starts_at, ends_at, hours, note (optional)",
        '- Require project.status is ACTIVE, else 409 "project is closed".',
        f"- Create a {entry} with project, starts_at, ends_at, hours and note.",
        f"- If hours > 8, set {v_entry}.overtime to true.",
        f"- Respond 201 with the {v_entry}.",
        "",
        f"### {ids['bill']}. Bill a project",
        f'- Require {v_project}.status is ACTIVE, else 409 "project is closed".',
        f"- Find the {invoice} of {v_project} with status DRAFT; if found, use it.",
        f"- Otherwise create an {invoice} with project = {v_project}.",
        f"- For each e in the {entry} records of {v_project} with billed false:",
        f"  - Create an {line} with invoice = {v_invoice}, entry = e and amount = e.hours * 90.",
        "  - Set e.billed to true.",
        f'- Require count of {v_invoice}.lines > 0, else 400 "nothing to bill".',
        f"- Set {v_invoice}.total to sum of l.amount over {v_invoice}.lines.",
        f"- Respond 200 with the {v_invoice}.",
        "",
        f"### {ids['send']}. Send an invoice",
        f'- Require {v_invoice}.status is DRAFT, else 409 "invoice already sent".',
        f'- Require {v_invoice}.total > 0, else 400 "invoice is empty".',
        f"- Set {v_invoice}.status to SENT and {v_invoice}.sent_at to now.",
        "",
        f"### {ids['drop']}. Drop every line of a draft invoice",
        f'- Require {v_invoice}.status is DRAFT, else 409 "invoice already sent".',
        f"- For each l in {v_invoice}.lines:",
        "  - Set l.entry.billed to false.",
        f"- Delete every line of {v_invoice}.",
        f"- Set {v_invoice}.total to 0.",
        f"- Respond 200 with the {v_invoice}.",
        "",
        f"### {ids['upgrade']}. Upgrade a client",
        f'- Require {v_client}.tier is BASIC, else 409 "client is already gold".',
        f"- Set {v_client}.tier to GOLD.",
        f"- Increase {v_client}.credit by 100.",
        "",
    ]
    rule_lines = [
        f"- {rules.next()}. A {w} entry's ends_at is after its starts_at (422).",
        f"- {rules.next()}. Two {w} entries of the same project never overlap in time "
        '(409 "overlapping time entry").',
        f"- {rules.next()}. A {w} project has at most one {invoice} with status DRAFT.",
        f"- {rules.next()}. A {w} client's credit is never negative.",
    ]
    return entities, api, flows, rule_lines


def generate_spec(lines: int = TARGET_LINES) -> str:
    """A realistic structured spec of at least `lines` lines: blocks of five related
    entities with varied fields and constraints, CRUD and explicit endpoints (nested
    lists, actions), flows with guards, sets, finds, creates and for-each loops, and
    rules. It compiles without errors."""
    head = [
        "# Generated Timesheets",
        "",
        "Consultancies log time on client projects and bill it monthly. This spec is",
        "generated by bench/parse.py to measure the compiler on a large, realistic input.",
        "",
    ]
    errors = [
        "## Errors",
        "- An unknown id in the path or in a reference answers 404.",
        "- A field that breaks its constraints answers 422.",
        "- A duplicate value of a unique field answers 409.",
        "- A broken rule answers 422.",
        "- A conflict answers 409.",
    ]
    endpoint_ids, rule_ids = _Ids("F"), _Ids("R")
    sections: tuple[list[str], ...] = (["## Entities", ""], ["## Endpoints"], ["## Flows", ""])
    sections += (["## Rules"],)
    index = 0
    while True:
        for section, part in zip(sections, _block(index, endpoint_ids, rule_ids), strict=True):
            section.extend(part)
        index += 1
        total = len(head) + sum(len(s) + 1 for s in sections) + len(errors)
        if total >= lines:
            break
    body = [*head]
    for section in sections:
        body += [*section, ""]
    return "\n".join([*body, *errors]) + "\n"


# --- timing ---------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    lines: int
    diagnostics: int
    times_ms: list[float]

    @property
    def median(self) -> float:
        return stats.median(self.times_ms)

    @property
    def p95(self) -> float:
        return stats.p95(self.times_ms)

    @property
    def lines_per_second(self) -> float:
        return self.lines / (self.median / 1000) if self.median > 0 else math.inf


def measure(name: str, data: bytes, runs: int, warmup: int) -> Result:
    """Time `compile_spec(data)` `runs` times after `warmup` untimed runs."""
    result: CompileResult | None = None
    for _ in range(warmup):
        result = compile_spec(data, name)
    times: list[float] = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = compile_spec(data, name)
        times.append((time.perf_counter() - started) * 1000)
    assert result is not None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return Result(name, lines, len(result.diagnostics), times)


def import_time_ms(runs: int = IMPORT_RUNS) -> list[float]:
    """Milliseconds to import `specloom.spec.compiler` in fresh interpreters."""
    code = (
        "import time; started = time.perf_counter(); import specloom.spec.compiler; "
        "print((time.perf_counter() - started) * 1000)"
    )
    times: list[float] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
        times.append(float(done.stdout.strip()))
    return times


def check_generated(text: str) -> CompileResult:
    """Compile the generated spec once; it must have no errors."""
    compiled = compile_spec(text, "generated")
    errors = [d.format("generated") for d in compiled.errors]
    assert not errors, "the generated spec must compile without errors:\n" + "\n".join(errors[:20])
    return compiled


def report(results: list[Result], runs: int, warmup: int, out: Callable[[str], None]) -> None:
    out(f"compile_spec (phases 1-2: parse + analysis), {runs} runs after {warmup} warm-up runs")
    out(
        f"{'input':<26} {'lines':>6} {'runs':>5} {'median ms':>10} {'p95 ms':>8} "
        f"{'lines/s':>9} {'diags':>6}"
    )
    for r in results:
        out(
            f"{r.name:<26} {r.lines:>6} {len(r.times_ms):>5} {r.median:>10.2f} {r.p95:>8.2f} "
            f"{r.lines_per_second:>9,.0f} {r.diagnostics:>6}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench parse", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--runs", type=int, default=30, help="timed runs per input (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument(
        "--lines", type=int, default=TARGET_LINES, help="lines of the generated spec (2000)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when the 50 ms target is missed"
    )
    args = parser.parse_args(argv)
    runs, warmup = max(1, args.runs), max(0, args.warmup)

    text = generate_spec(args.lines)
    compiled = check_generated(text)
    severities = [d.severity for d in compiled.diagnostics]
    print(
        f"generated spec: {text.count(chr(10))} lines, {len(compiled.ir.domain.entities)} "
        f"entities, {len(compiled.ir.api.endpoints)} endpoints, "
        f"{len(compiled.ir.behaviour.flows)} flows, {len(compiled.ir.behaviour.rules)} rules; "
        f"{len(compiled.diagnostics)} diagnostics ({severities.count('error')} errors, "
        f"{severities.count('warning')} warnings)"
    )
    print()
    results = [
        measure(path.name, path.read_bytes(), runs, warmup)
        for path in sorted(EXAMPLES.glob("*.spec.md"))
    ]
    generated = measure("generated spec", text.encode("utf-8"), runs, warmup)
    report([*results, generated], runs, warmup, print)
    imports = import_time_ms()
    print()
    print(
        f"import specloom.spec.compiler (fresh interpreter, {len(imports)} runs): "
        f"median {statistics.median(imports):.1f} ms, max {max(imports):.1f} ms"
    )
    met = generated.median < TARGET_MS
    print(
        f"target: a {generated.lines}-line spec in under {TARGET_MS:.0f} ms: "
        f"{'met' if met else 'MISSED'} (median {generated.median:.1f} ms, "
        f"p95 {generated.p95:.1f} ms, {generated.median / TARGET_MS:.0%} of the budget)"
    )
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    raise SystemExit(main())
