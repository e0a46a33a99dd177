"""Settings, prices and the budget, without any request."""

from __future__ import annotations

import logging

import pytest
from specloom.llm import Budget, BudgetExceeded, LanguageModel, LLMSettings, LLMUnavailable, Usage
from specloom.llm.settings import DEFAULT_MODEL, PRICES

from tests.llm.messages_api import API_KEY


def test_without_a_key_the_language_model_says_it_needs_one() -> None:
    settings = LLMSettings.from_env({})

    with pytest.raises(LLMUnavailable) as raised:
        LanguageModel(settings)

    assert str(raised.value).startswith("no Anthropic API key: set ANTHROPIC_API_KEY")


def test_an_empty_key_counts_as_none() -> None:
    with pytest.raises(LLMUnavailable):
        LanguageModel(LLMSettings.from_env({"ANTHROPIC_API_KEY": "  "}))


def test_settings_come_from_the_environment_and_overrides_win() -> None:
    environ = {
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "SPECLOOM_LLM_MODEL": "claude-haiku-4-5",
        "SPECLOOM_LLM_MAX_TOKENS": "1000",
        "SPECLOOM_LLM_TIMEOUT": "30",
        "SPECLOOM_LLM_MAX_RETRIES": "5",
        "SPECLOOM_LLM_BUDGET_TOKENS": "none",
        "SPECLOOM_LLM_BUDGET_USD": "0.25",
    }

    settings = LLMSettings.from_env(environ, max_retries=0)

    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == API_KEY
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.model == "claude-haiku-4-5"
    assert (settings.max_tokens, settings.timeout_s, settings.max_retries) == (1000, 30.0, 0)
    assert (settings.budget_tokens, settings.budget_usd) == (None, 0.25)


def test_the_default_model_has_a_price() -> None:
    assert DEFAULT_MODEL in PRICES
    assert LLMSettings().model == DEFAULT_MODEL


def test_the_key_never_shows_in_the_settings_repr_or_dump() -> None:
    settings = LLMSettings(api_key=API_KEY)

    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert API_KEY not in shown
    assert API_KEY not in repr(LanguageModel(settings))


def test_a_dated_model_id_takes_its_family_price_and_an_unknown_one_the_highest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = LLMSettings()

    assert settings.price_of("claude-haiku-4-5-20251001") == PRICES["claude-haiku-4-5"]
    with caplog.at_level(logging.WARNING):
        unknown = settings.price_of("claude-future-9")
    assert unknown.output == max(price.output for price in PRICES.values())
    assert "no price for model claude-future-9" in caplog.text


def test_dollars_follow_the_price_table() -> None:
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_creation_input_tokens=200_000,
        cache_read_input_tokens=2_000_000,
    )

    dollars = LLMSettings().price_of("claude-sonnet-4-6").dollars(usage)

    # 1M x $3 + 0.1M x $15 + 0.2M x $3.75 + 2M x $0.30
    assert dollars == pytest.approx(3.0 + 1.5 + 0.75 + 0.6)


def test_the_budget_refuses_once_the_token_limit_is_reached() -> None:
    budget = Budget(max_tokens=1_000)
    budget.check()
    budget.add("claude-sonnet-4-6", Usage(input_tokens=900, output_tokens=100))

    with pytest.raises(BudgetExceeded) as raised:
        budget.check()

    message = str(raised.value)
    assert "this run spent 1,000 tokens" in message
    assert "its limit is 1,000 tokens" in message


def test_the_budget_refuses_once_the_dollar_limit_is_reached() -> None:
    budget = Budget(max_usd=0.01)
    budget.add("claude-sonnet-4-6", Usage(output_tokens=1_000))  # $0.015

    with pytest.raises(BudgetExceeded, match=r"\(\$0\.0150\) in 1 call, and its limit is \$0\.01"):
        budget.check()
