"""The language model's usage as the run store keeps it: one record per call (model,
purpose, the four kinds of tokens, dollars), and a run's totals."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from pydantic import Field as PydanticField

from specloom.pipeline.records import utc_now


class LLMUsageRecord(BaseModel):
    """One language-model call of a run. `input_tokens` excludes the prompt tokens
    written to (`cache_creation_input_tokens`) or read from (`cache_read_input_tokens`)
    the prompt cache; `cost_usd` is the price of all four at the configured prices."""

    model: str
    purpose: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0
    at: datetime = PydanticField(default_factory=utc_now)


class LLMUsageTotals(BaseModel):
    """The sums of a run's language-model calls."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )
