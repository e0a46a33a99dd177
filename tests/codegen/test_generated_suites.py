"""The proof of phases 6 to 10: the pipeline generates the application of each
structured example, then verifies it clean (its checks, its own suite on SQLite, every
endpoint answering); and the same suite passes on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from generated_apps import EXAMPLES, STRUCTURED, run_app_suite
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import PipelineSettings
from specloom.store.urls import open_store


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspace for every run: they share its mypy cache, as a user's runs do."""
    return tmp_path_factory.mktemp("workspace")


@pytest.mark.parametrize("spec", STRUCTURED)
async def test_generate_with_trust_verifies_the_app_clean(
    spec: str, workspace: Path, tmp_path: Path
) -> None:
    settings = PipelineSettings()
    settings.verify.trusted = True
    store = await open_store(None, workspace)
    try:
        run = await Orchestrator(store, settings=settings).run(
            EXAMPLES / spec, tmp_path / "out", workspace
        )
        findings = await store.list_validations(run.id)
    finally:
        await store.close()
    statuses = {phase.number: phase.status for phase in run.phases}
    assert [statuses[n] for n in (7, 9, 10)] == ["passed"] * 3, (run.error, findings[:10])
    assert statuses[8] == "skipped"  # nothing to repair
    assert run.status == "passed", run.error  # every phase there, and clean
    learning = run.phase(11)
    assert learning is not None
    assert learning.status == "passed", learning.message
    validation = run.phase(9)
    assert validation is not None
    suite = validation.detail["checks"]["tests"]
    assert suite["tests"] > 0
    assert suite["passed"] == suite["tests"]
    assert validation.detail["checks"]["compliance"]["percent"] == 100.0
    assert findings == []
    assert (tmp_path / "out" / "app" / "main.py").is_file()


@pytest.mark.parametrize("spec", STRUCTURED)
def test_the_generated_suite_passes_on_postgresql(
    example_app: Callable[[str], Path], spec: str, tmp_path: Path, postgres_database: str
) -> None:
    tests, bad, output = run_app_suite(
        example_app(spec), tmp_path / "report.xml", postgres_database
    )
    assert tests > 0, output
    assert bad == 0, output
