"""A run's language-model budget: the tokens and dollars spent so far, and the limits.

`check()` before each call raises `BudgetExceeded` once a limit is reached; `add()` after
each answer counts what it used. A call in flight is never cut short by the budget: the
limit can be overshot by one answer, and the next call is refused. One `Budget` is shared
by every call of a run (one event loop, so no lock is needed).
"""

from __future__ import annotations

from specloom.llm.errors import BudgetExceeded
from specloom.llm.settings import LLMSettings, ModelPrice
from specloom.llm.usage import Usage


class Budget:
    """What a run may spend (`max_tokens`, `max_usd`; None is no limit) and has spent."""

    def __init__(
        self,
        *,
        max_tokens: int | None = None,
        max_usd: float | None = None,
        settings: LLMSettings | None = None,
    ) -> None:
        self.max_tokens = max_tokens
        self.max_usd = max_usd
        self._settings = settings or LLMSettings()
        self.spent = Usage()
        self.dollars = 0.0
        self.calls = 0

    @classmethod
    def of(cls, settings: LLMSettings) -> Budget:
        """The budget the settings give one run, priced at their price table."""
        return cls(
            max_tokens=settings.budget_tokens, max_usd=settings.budget_usd, settings=settings
        )

    def price_of(self, model: str) -> ModelPrice:
        return self._settings.price_of(model)

    def add(self, model: str, usage: Usage) -> float:
        """Count one answer's usage; returns its price in dollars."""
        dollars = self.price_of(model).dollars(usage)
        self.spent = self.spent + usage
        self.dollars += dollars
        self.calls += 1
        return dollars

    @property
    def exhausted(self) -> str | None:
        """Which limit is reached, in words, or None."""
        if self.max_tokens is not None and self.spent.total_tokens >= self.max_tokens:
            return f"{self.max_tokens:,} tokens"
        if self.max_usd is not None and self.dollars >= self.max_usd:
            return f"${self.max_usd:,.2f}"
        return None

    def check(self) -> None:
        """Raise `BudgetExceeded` when a limit is reached (before a call is made)."""
        limit = self.exhausted
        if limit is not None:
            raise BudgetExceeded(
                f"language-model budget reached: this run spent {self.summary()}, "
                f"and its limit is {limit}; no further call is made "
                "(raise SPECLOOM_LLM_BUDGET_TOKENS or SPECLOOM_LLM_BUDGET_USD to allow more)"
            )

    def summary(self) -> str:
        """What was spent, in words: `12,345 tokens ($0.0412) in 3 calls`."""
        calls = "call" if self.calls == 1 else "calls"
        return f"{self.spent.total_tokens:,} tokens (${self.dollars:,.4f}) in {self.calls} {calls}"
