"""Which store plays each role: embedded without URLs, servers with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from specloom.backends import Backends, BackendSettings, BackendUnavailable, NodeRef


def test_settings_come_from_the_environment_and_empty_means_unset() -> None:
    settings = BackendSettings.from_env(
        {"SPECLOOM_CACHE_URL": " redis://h:6379/0 ", "SPECLOOM_GRAPH_URL": "", "OTHER": "x"}
    )
    assert settings == BackendSettings(cache_url="redis://h:6379/0")


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    settings = BackendSettings(graph_password="hunter2", vector_api_key="k-123")
    assert "hunter2" not in repr(settings)
    assert "k-123" not in repr(settings)


async def test_without_urls_every_store_is_embedded_in_the_workspace(tmp_path: Path) -> None:
    backends = await Backends.open(tmp_path, BackendSettings())
    try:
        assert (backends.vectors.name, backends.graph.name, backends.live.name) == (
            "qdrant-edge",
            "networkx",
            "memory",
        )
        await backends.vectors.ensure("patterns", 3)
        assert (tmp_path / ".specloom" / "vectors" / "patterns").is_dir()
        await backends.graph.merge_node(NodeRef("Run", "r1"))
    finally:
        await backends.close()
    assert (tmp_path / ".specloom" / "graph.json").is_file()


async def test_an_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    settings = BackendSettings(cache_url="redis://user:hunter2@127.0.0.1:1/0")
    with pytest.raises(BackendUnavailable) as raised:
        await Backends.open(tmp_path, settings)
    assert (
        str(raised.value)
        == "cache unavailable at redis://user:***@127.0.0.1:1/0: connection refused"
    )
    settings = BackendSettings(vector_url="not a url at all")
    with pytest.raises(BackendUnavailable, match="vector store unavailable"):
        await Backends.open(tmp_path, settings)
