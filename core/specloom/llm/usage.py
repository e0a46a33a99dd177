"""Tokens one call used, and the entry handed to a usage recorder after each call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specloom.pipeline.records import Tokens


class Usage(Tokens):
    """Tokens of one call (or a sum of calls), as the Messages API counts them.

    `input_tokens` excludes the prompt tokens written to or read from the cache, which
    are counted (and priced) apart.
    """

    model_config = ConfigDict(frozen=True)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=(
                self.cache_creation_input_tokens + other.cache_creation_input_tokens
            ),
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @classmethod
    def of(cls, sdk_usage: Any) -> Usage:
        """The usage of an SDK `Usage` or `MessageDeltaUsage` (missing counts are 0)."""

        def count(name: str) -> int:
            return int(getattr(sdk_usage, name, None) or 0)

        return cls(
            input_tokens=count("input_tokens"),
            output_tokens=count("output_tokens"),
            cache_creation_input_tokens=count("cache_creation_input_tokens"),
            cache_read_input_tokens=count("cache_read_input_tokens"),
        )


class UsageEntry(BaseModel):
    """One call's usage as a recorder receives it: the model, what the call was for
    (`formalize`, `repair`...), its tokens and their price in dollars."""

    model_config = ConfigDict(frozen=True)

    model: str
    purpose: str
    usage: Usage
    dollars: float
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


UsageRecorder = Callable[[UsageEntry], Awaitable[None]]
"""Called after every call with its usage (the run store's is `recording.store_recorder`)."""
