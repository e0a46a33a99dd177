"""What a task of the pipeline works for, for the logs (kept apart from the orchestrator
so that a log filter can read it without importing the pipeline)."""

from __future__ import annotations

import contextvars

RUN_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("specloom_run_id", default=None)
"""The id of the run the current task works for (the logs' `run_id`)."""
