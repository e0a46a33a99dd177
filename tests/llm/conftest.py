"""Fixtures of the language-model tests: the Messages API stand-in, settings pointing
at it, and a `LanguageModel` on those settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from specloom.llm import LanguageModel, LLMSettings

from tests.llm.messages_api import API_KEY, MessagesAPI, running


@pytest.fixture
def api() -> Iterator[MessagesAPI]:
    with running() as stand_in:
        yield stand_in


@pytest.fixture
def settings(api: MessagesAPI) -> LLMSettings:
    return LLMSettings(api_key=API_KEY, base_url=api.base_url, model="claude-sonnet-4-6")


@pytest.fixture
async def language_model(settings: LLMSettings) -> AsyncIterator[LanguageModel]:
    model = LanguageModel(settings)
    yield model
    await model.aclose()
