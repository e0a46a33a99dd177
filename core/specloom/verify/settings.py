"""What the verify loop is told: whether it may run generated code at all, how often it
may repair, where app databases live, and its time and memory limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from specloom.verify.sandbox import Limits


@dataclass
class VerifySettings:
    # Generated code runs only in a trusted workspace (`--trust`, or the editor's answer).
    trusted: bool = False
    repair_attempts: int = 3
    # A PostgreSQL server on which each run creates (and drops) a database for its app;
    # None: a SQLite file in the run's directory.
    database_url: str | None = None
    # each check's subprocess (compile, ruff, mypy, pytest, the OpenAPI dump)
    check_limits: Limits = field(default_factory=lambda: Limits(seconds=600.0, memory_mb=4096))
    # the app under uvicorn during the health check
    app_limits: Limits = field(default_factory=lambda: Limits(seconds=120.0, memory_mb=2048))
    startup_seconds: float = 20.0  # wait at most this long for /health to answer
    request_seconds: float = 10.0  # each request of the health check
