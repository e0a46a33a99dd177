"""The language model's usage as the run store keeps it: one record per call (model,
purpose, the four kinds of tokens, dollars), and a run's totals."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field as PydanticField

from specloom.pipeline.records import Tokens, utc_now


class LLMUsageRecord(Tokens):
    """One language-model call of a run; `cost_usd` is the price of its tokens at the
    configured prices."""

    model: str
    purpose: str = ""
    cost_usd: float = 0.0
    at: datetime = PydanticField(default_factory=utc_now)


class LLMUsageTotals(Tokens):
    """The sums of a run's language-model calls."""

    calls: int = 0
    cost_usd: float = 0.0
