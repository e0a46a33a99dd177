"""What the language model is told: the key, where the API is, which model, its limits,
the run's budget and the price of each model.

`LLMSettings.from_env()` reads the environment (`ANTHROPIC_API_KEY`,
`ANTHROPIC_BASE_URL`, `SPECLOOM_LLM_*`); keyword arguments override it. The key is a
`SecretStr`: it never appears in a repr, a log line or an error message.

Prices are an assumption, not a fact fetched at run time: the figures in `PRICES` are
dollars per million tokens as listed on Anthropic's pricing page
(https://platform.claude.com/docs/en/about-claude/pricing), read in November 2026, with
the 5-minute cache write price (the `ephemeral` cache Specloom uses); models whose price
could not be checked there are left out. Prices change: pass `prices=` (or replace rows)
to correct them. A model missing from the table
is counted at the highest listed price, so a budget in dollars errs on the safe side.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, SecretStr

from specloom.llm.usage import Usage

log = logging.getLogger(__name__)

MILLION = 1_000_000


class ModelPrice(BaseModel):
    """Dollars per million tokens of one model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float
    """Fresh (uncached) input tokens."""
    output: float
    """Output tokens."""
    cache_write: float
    """Input tokens written to the prompt cache (5-minute cache)."""
    cache_read: float
    """Input tokens read from the prompt cache."""

    def dollars(self, usage: Usage) -> float:
        """The price of `usage` at these rates."""
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / MILLION


def _price(input_: float, output: float, cache_write: float, cache_read: float) -> ModelPrice:
    return ModelPrice(input=input_, output=output, cache_write=cache_write, cache_read=cache_read)


_OPUS = _price(5.0, 25.0, 6.25, 0.50)
_SONNET_4 = _price(3.0, 15.0, 3.75, 0.30)

PRICES: Mapping[str, ModelPrice] = {
    "claude-opus-5": _OPUS,
    "claude-opus-4-8": _OPUS,
    "claude-opus-4-7": _OPUS,
    "claude-opus-4-6": _OPUS,
    "claude-opus-4-5": _OPUS,
    "claude-sonnet-4-6": _SONNET_4,
    "claude-sonnet-4-5": _SONNET_4,
    "claude-haiku-4-5": _price(1.0, 5.0, 1.25, 0.10),
}
"""The assumed price table (see the module's docstring)."""

DEFAULT_MODEL = "claude-sonnet-4-6"


class LLMSettings(BaseModel):
    """The language model's configuration (see `docs/configuration.md`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    """The Anthropic API key (`ANTHROPIC_API_KEY`). None: the language model is
    unavailable and says so."""
    base_url: str | None = None
    """The API's address (`ANTHROPIC_BASE_URL`); None: Anthropic's own."""
    model: str = DEFAULT_MODEL
    """The model of every call (`SPECLOOM_LLM_MODEL`)."""
    max_tokens: PositiveInt = 8192
    """The most output tokens one answer may have (`SPECLOOM_LLM_MAX_TOKENS`)."""
    timeout_s: PositiveFloat = 300.0
    """Seconds one request may take, streaming included (`SPECLOOM_LLM_TIMEOUT`)."""
    max_retries: int = Field(default=2, ge=0)
    """How often the SDK retries a request that met a 408, 409, 429 or 5xx answer or a
    lost connection, with exponential backoff (`SPECLOOM_LLM_MAX_RETRIES`)."""
    budget_tokens: PositiveInt | None = 2_000_000
    """The most tokens (input of every kind and output) one run may use
    (`SPECLOOM_LLM_BUDGET_TOKENS`); None: no limit."""
    budget_usd: PositiveFloat | None = 5.0
    """The most dollars one run may spend, at `prices` (`SPECLOOM_LLM_BUDGET_USD`); None:
    no limit."""
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(PRICES))
    """Dollars per million tokens, by model id (an assumption: see the module)."""

    @property
    def has_key(self) -> bool:
        return self.api_key is not None and bool(self.api_key.get_secret_value())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> LLMSettings:
        """The settings from the environment (`os.environ` unless given), with
        `overrides` (field names) taking precedence. Empty variables are ignored."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, variable in ENVIRONMENT.items():
            value = env.get(variable, "").strip()
            if not value:
                continue
            no_limit = field in LIMITS and value.lower() in ("none", "off", "0")
            values[field] = None if no_limit else value
        values.update(overrides)
        return cls.model_validate(values)

    def price_of(self, model: str) -> ModelPrice:
        """The price of `model`: its row, the row its dated id starts with
        (`claude-haiku-4-5-20251001`), or the highest listed price."""
        if model in self.prices:
            return self.prices[model]
        prefixes = [name for name in self.prices if model.startswith(f"{name}-")]
        if prefixes:
            return self.prices[max(prefixes, key=len)]
        log.warning("no price for model %s; counting it at the highest listed price", model)
        return highest_price(self.prices.values())


ENVIRONMENT: Mapping[str, str] = {
    "api_key": "ANTHROPIC_API_KEY",
    "base_url": "ANTHROPIC_BASE_URL",
    "model": "SPECLOOM_LLM_MODEL",
    "max_tokens": "SPECLOOM_LLM_MAX_TOKENS",
    "timeout_s": "SPECLOOM_LLM_TIMEOUT",
    "max_retries": "SPECLOOM_LLM_MAX_RETRIES",
    "budget_tokens": "SPECLOOM_LLM_BUDGET_TOKENS",
    "budget_usd": "SPECLOOM_LLM_BUDGET_USD",
}
"""The environment variable of each setting."""

LIMITS = frozenset({"budget_tokens", "budget_usd"})
"""Settings whose variable may say `none` (or `off`, `0`) for no limit."""


def highest_price(prices: Any) -> ModelPrice:
    """Every rate at its highest among `prices` (all zero when there are none)."""
    rows = list(prices)
    if not rows:
        return _price(0.0, 0.0, 0.0, 0.0)
    return _price(
        max(row.input for row in rows),
        max(row.output for row in rows),
        max(row.cache_write for row in rows),
        max(row.cache_read for row in rows),
    )
