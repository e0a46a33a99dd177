"""What the language model raises, each with a message a user can act on.

A cancelled call raises the pipeline's `Cancelled` (`specloom.pipeline.cancel`), like
every other step of a run.
"""

from __future__ import annotations

NO_KEY = (
    "no Anthropic API key: set ANTHROPIC_API_KEY (or the api_key setting) to use the "
    "language model; without it, the deterministic compiler still works"
)


class LLMError(Exception):
    """Base of the language model's errors."""


class LLMUnavailable(LLMError):
    """The language model cannot be used: no key, or the API refused it."""


class LLMRequestFailed(LLMError):
    """The API answered with an error, or could not be reached, after the SDK's retries."""


class BudgetExceeded(LLMError):
    """The run's language-model budget (tokens or dollars) is spent; no further call is
    made. The caller ends its work cleanly."""


class MalformedAnswer(LLMError):
    """The model's answers did not fit the requested shape, even after feedback."""
