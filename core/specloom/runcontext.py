"""What a task of Specloom works for, for the logs: a module of its own, so that the
server's log filter reads it without importing the pipeline at start-up."""

from __future__ import annotations

import contextvars

RUN_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("specloom_run_id", default=None)
"""The id of the run the current task works for (the logs' `run_id`)."""
