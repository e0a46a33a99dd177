"""The language model: Claude through Anthropic's Messages API.

Used where the structured spec language cannot go: formalizing prose specs, bodies of
custom steps, repairs the deterministic strategies cannot make. Without an API key it
raises `LLMUnavailable` with a plain message; the deterministic compiler never needs it.

- `settings`: `LLMSettings` (key, base URL, model, limits, budget, prices).
- `budget`: `Budget`, the tokens and dollars a run may spend.
- `client`: `LanguageModel`, streamed text and structured (pydantic) answers.
- `recording`: the run store as a usage recorder.

Importing this package does not import the `anthropic` SDK; the first call does.
"""

from specloom.llm.budget import Budget
from specloom.llm.client import Answer, LanguageModel, user
from specloom.llm.errors import (
    BudgetExceeded,
    LLMError,
    LLMRequestFailed,
    LLMUnavailable,
    MalformedAnswer,
)
from specloom.llm.settings import LLMSettings, ModelPrice
from specloom.llm.usage import Usage, UsageEntry, UsageRecorder

__all__ = [
    "Answer",
    "Budget",
    "BudgetExceeded",
    "LLMError",
    "LLMRequestFailed",
    "LLMSettings",
    "LLMUnavailable",
    "LanguageModel",
    "MalformedAnswer",
    "ModelPrice",
    "Usage",
    "UsageEntry",
    "UsageRecorder",
    "user",
]
