"""Prometheus metrics of the server (`specloom lsp --metrics HOST:PORT`, loopback by
default; off unless asked): what an operator watches on a team server.

- `specloom_lsp_requests_total{method,outcome}` and `specloom_lsp_request_seconds{method}`:
  every LSP request, answered (`ok`) or with an error (`error`), and its time;
- `specloom_runs_total{command,status}`: pipeline runs by outcome;
- `specloom_phase_seconds{phase}`: each phase's time in the runs;
- `specloom_llm_tokens_total{kind}` and `specloom_llm_dollars_total`: the language
  model's tokens (input, output, cache_write, cache_read) and cost.

prometheus-client is imported only when metrics are asked for, and its default
registry's process and platform collectors come with it (memory, CPU, open files).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from specloom.pipeline.records import RunRecord

_metrics: Metrics | None = None


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.requests = Counter(
            "specloom_lsp_requests", "LSP requests answered", ["method", "outcome"]
        )
        self.request_seconds = Histogram(
            "specloom_lsp_request_seconds",
            "Time from an LSP request to its answer",
            ["method"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
        )
        self.runs = Counter("specloom_runs", "Pipeline runs by outcome", ["command", "status"])
        self.phase_seconds = Histogram(
            "specloom_phase_seconds",
            "Time of each phase of a run",
            ["phase"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.tokens = Counter("specloom_llm_tokens", "Language-model tokens", ["kind"])
        self.dollars = Counter("specloom_llm_dollars", "Language-model cost in dollars")
        self._started: dict[Any, tuple[str, float]] = {}

    def request_started(self, msg_id: Any, method: str) -> None:
        self._started[msg_id] = (method, time.perf_counter())

    def request_answered(self, msg_id: Any, error: bool) -> None:
        started = self._started.pop(msg_id, None)
        if started is None:
            return
        method, began = started
        self.requests.labels(method, "error" if error else "ok").inc()
        self.request_seconds.labels(method).observe(time.perf_counter() - began)

    def run_finished(self, command: str, run: RunRecord, usage: Any = None) -> None:
        self.runs.labels(command, run.status).inc()
        for phase in run.phases:
            if phase.duration_ms is not None and phase.status not in ("pending", "skipped"):
                self.phase_seconds.labels(str(phase.number)).observe(phase.duration_ms / 1000)
        if usage is not None:
            fields = {
                "input": "input_tokens",
                "output": "output_tokens",
                "cache_write": "cache_creation_input_tokens",
                "cache_read": "cache_read_input_tokens",
            }
            for kind, name in fields.items():
                value = int(getattr(usage, name, 0) or 0)
                if value:
                    self.tokens.labels(kind).inc(value)
            dollars = float(getattr(usage, "cost_usd", 0.0) or 0.0)
            if dollars:
                self.dollars.inc(dollars)


def start(host: str, port: int) -> Metrics:
    """Serve /metrics on HOST:PORT (a thread of its own) and collect from now on."""
    global _metrics
    from prometheus_client import start_http_server

    if _metrics is None:
        _metrics = Metrics()
    start_http_server(port, addr=host)
    return _metrics


def current() -> Metrics | None:
    """The metrics being collected, or None when they were not asked for."""
    return _metrics
