"""The orchestrator: 11 phases, events, cancellation, retries, staging and resume."""
