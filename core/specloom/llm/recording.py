"""The run store as the language model's usage recorder: each call becomes a row of
`llm_usage` for the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from specloom.llm.usage import UsageEntry, UsageRecorder

if TYPE_CHECKING:
    from specloom.store.base import LLMUsageLog


def store_recorder(store: LLMUsageLog, run_id: str) -> UsageRecorder:
    """A recorder that keeps every call's usage in `store`, under the run `run_id`."""
    from specloom.store.usage import LLMUsageRecord

    async def record(entry: UsageEntry) -> None:
        usage = entry.usage
        await store.add_llm_usage(
            run_id,
            LLMUsageRecord(
                model=entry.model,
                purpose=entry.purpose,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                cost_usd=entry.dollars,
                at=entry.at,
            ),
        )

    return record
