"""Where Redis is configured, a run also holds the workspace's run lock on it, so that
servers on several machines run one pipeline per workspace: a run finds the lock held
and says by whom, and the lock is free again when a run ends."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from specloom.backends.config import BackendSettings, open_live
from specloom.pipeline.lock import WorkspaceBusy
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import PipelineSettings
from specloom.store.urls import open_store

from tests.backends.conftest import unreachable

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REDIS = os.environ.get("SPECLOOM_TEST_REDIS", "redis://127.0.0.1:6379/0")


async def test_a_run_waits_for_nobody_and_refuses_a_held_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECLOOM_CACHE_URL", REDIS)
    monkeypatch.setenv("SPECLOOM_LEARNING", "0")
    shutil.copy(EXAMPLES / "todo.spec.md", tmp_path / "todo.spec.md")
    workspace = tmp_path.resolve()
    try:
        live = await open_live(BackendSettings.from_env())
    except Exception as error:
        unreachable(f"Redis is not reachable: {error}")
        return
    store = await open_store(None, workspace)
    try:
        held = await live.lock.acquire(str(workspace), "another-server", ttl_s=30)
        with pytest.raises(WorkspaceBusy, match="another-server"):
            await Orchestrator(store, settings=PipelineSettings()).run(
                workspace / "todo.spec.md", workspace / "out", workspace
            )
        assert await live.lock.release(held)
        run = await Orchestrator(store, settings=PipelineSettings()).run(
            workspace / "todo.spec.md", workspace / "out", workspace
        )
        assert run.status == "incomplete"  # untrusted, generated
        again = await live.lock.acquire(str(workspace), "next", ttl_s=30)  # free again
        await live.lock.release(again)
    finally:
        await store.close()
        await live.close()
