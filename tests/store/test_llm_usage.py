"""The language model's usage in the run store (`llm_usage`), on SQLite and on
PostgreSQL (see conftest.py), and the store as the language model's recorder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from specloom.llm.recording import store_recorder
from specloom.llm.usage import Usage, UsageEntry
from specloom.pipeline.records import RunRecord
from specloom.store import LLMUsageRecord, LLMUsageTotals, SqlRunStore

T0 = datetime(2026, 11, 27, 9, 30, 0, 250000, tzinfo=UTC)


def _run(run_id: str) -> RunRecord:
    return RunRecord(id=run_id, workspace="/ws", spec_path="/ws/shop.spec.md")


async def test_a_runs_calls_are_listed_in_order(store: SqlRunStore) -> None:
    await store.create_run(_run("run1"))
    await store.create_run(_run("run2"))
    calls = [
        LLMUsageRecord(
            model="claude-sonnet-4-6",
            purpose="formalize",
            input_tokens=1_200,
            output_tokens=300,
            cache_creation_input_tokens=4_000,
            cost_usd=0.0231,
            at=T0,
        ),
        LLMUsageRecord(
            model="claude-haiku-4-5",
            purpose="repair",
            input_tokens=80,
            output_tokens=20,
            cache_read_input_tokens=4_000,
            cost_usd=0.0005,
            at=T0 + timedelta(seconds=3),
        ),
    ]
    for call in calls:
        await store.add_llm_usage("run1", call)
    await store.add_llm_usage("run2", LLMUsageRecord(model="m", input_tokens=1))

    assert await store.list_llm_usage("run1") == calls
    assert [call.input_tokens for call in await store.list_llm_usage("run2")] == [1]
    assert await store.list_llm_usage("ghost") == []


async def test_totals_sum_a_runs_calls(store: SqlRunStore) -> None:
    await store.create_run(_run("run1"))
    for n in range(1, 4):
        await store.add_llm_usage(
            "run1",
            LLMUsageRecord(
                model="claude-sonnet-4-6",
                input_tokens=100 * n,
                output_tokens=10 * n,
                cache_creation_input_tokens=1_000 * n,
                cache_read_input_tokens=900_000 if n == 3 else 0,
                cost_usd=0.25 * n,
            ),
        )

    totals = await store.llm_usage_totals("run1")

    assert totals.model_dump(exclude={"cost_usd"}) == {
        "calls": 3,
        "input_tokens": 600,
        "output_tokens": 60,
        "cache_creation_input_tokens": 6_000,
        "cache_read_input_tokens": 900_000,
    }
    assert totals.cost_usd == pytest.approx(1.5)
    assert totals.total_tokens == 600 + 60 + 6_000 + 900_000


async def test_a_run_without_calls_totals_zero(store: SqlRunStore) -> None:
    await store.create_run(_run("run1"))

    assert await store.llm_usage_totals("run1") == LLMUsageTotals()


async def test_usage_of_an_unknown_run_is_refused(store: SqlRunStore) -> None:
    with pytest.raises(LookupError, match="no run 'ghost'"):
        await store.add_llm_usage("ghost", LLMUsageRecord(model="m"))


async def test_the_store_records_the_language_models_calls(store: SqlRunStore) -> None:
    await store.create_run(_run("run1"))
    record = store_recorder(store, "run1")
    usage = Usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=7)

    await record(
        UsageEntry(model="claude-sonnet-4-6", purpose="formalize", usage=usage, dollars=0.5, at=T0)
    )

    assert await store.list_llm_usage("run1") == [
        LLMUsageRecord(
            model="claude-sonnet-4-6",
            purpose="formalize",
            input_tokens=10,
            output_tokens=5,
            cache_read_input_tokens=7,
            cost_usd=0.5,
            at=T0,
        )
    ]
