"""`specloom plan`, `generate`, `runs` and `resume` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from specloom.pipeline.records import RunRecord
from specloom.plan.model import Plan

SPECLOOM = str(Path(sys.executable).parent / "specloom")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def specloom(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SPECLOOM, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLES / "library.spec.md", tmp_path / "library.spec.md")
    return tmp_path


def test_plan_writes_a_mermaid_page_and_the_plan_json(workspace: Path) -> None:
    result = specloom("plan", "library.spec.md", "--out", "plan", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "41 tasks" in result.stdout
    page = (workspace / "plan" / "plan.md").read_text()
    assert "```mermaid" in page
    assert "| level |" in page.lower() or "level" in page.lower()
    plan = Plan.model_validate_json((workspace / "plan" / "plan.json").read_text())
    assert plan.task("endpoint:F8") is not None
    assert all(task.level is not None for task in plan.tasks)


def test_plan_refuses_a_spec_with_errors(workspace: Path) -> None:
    (workspace / "bad.spec.md").write_text("# Bad\n\n## Entities\n\n### Book\n- title: strng\n")
    result = specloom("plan", "bad.spec.md", cwd=workspace)
    assert result.returncode == 1
    assert "bad.spec.md:6:10: error SL201" in result.stdout
    assert not (workspace / "plan.md").exists()


def test_generate_shows_the_phase_table_and_says_what_is_missing(workspace: Path) -> None:
    result = specloom("generate", "library.spec.md", "--out", "out", cwd=workspace)
    assert result.returncode == 3, result.stderr  # incomplete: not verified
    assert "spec ingestion" in result.stderr
    assert "code generation" in result.stderr
    assert "not verified: the workspace is not trusted" in " ".join(result.stderr.split())
    assert "learning" in result.stderr
    out = workspace / "out"
    assert (out / "app" / "main.py").is_file()
    assert (out / "tests" / "test_book.py").is_file()
    assert (out / "specloom-trace.json").is_file()
    assert (out / "plan.md").is_file()


def test_generate_json_prints_the_run_record(workspace: Path) -> None:
    result = specloom("generate", "library.spec.md", "--out", "out", "--json", cwd=workspace)
    run = RunRecord.model_validate_json(result.stdout)
    assert run.status == "incomplete"
    assert [p.status for p in run.phases[:6]] == ["passed"] * 6
    # without --trust no generated code runs: phases 7 to 10 are skipped, and 11 has
    # nothing verified to learn from
    assert [p.status for p in run.phases[6:10]] == ["skipped"] * 4
    assert run.phases[10].status == "skipped"
    files = next(p for p in run.phases if p.number == 6).detail["files"]
    assert "app/main.py" in files
    assert result.returncode == 3


def test_runs_lists_the_runs_of_the_workspace(workspace: Path) -> None:
    first = specloom("generate", "library.spec.md", "--out", "out", "--json", cwd=workspace)
    run_id = json.loads(first.stdout)["id"]
    listed = specloom("runs", cwd=workspace)
    assert listed.returncode == 0
    assert run_id in listed.stdout
    assert "incomplete" in listed.stdout
    as_json = json.loads(specloom("runs", "--json", cwd=workspace).stdout)
    assert [run["id"] for run in as_json] == [run_id]


def test_resume_of_an_unknown_run_is_a_clear_error(workspace: Path) -> None:
    result = specloom("resume", "nope", cwd=workspace)
    assert result.returncode == 2
    assert "no run nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_resume_of_a_finished_run_says_there_is_nothing_to_do(workspace: Path) -> None:
    first = specloom("generate", "library.spec.md", "--out", "out", "--json", cwd=workspace)
    run_id = json.loads(first.stdout)["id"]
    result = specloom("resume", run_id, cwd=workspace)
    assert result.returncode == 2
    assert "nothing to resume" in result.stderr


def test_a_store_that_is_down_is_a_clear_error_not_a_traceback(workspace: Path) -> None:
    result = specloom(
        "generate",
        "library.spec.md",
        "--out",
        "out",
        "--store",
        "postgresql://postgres:secret@127.0.0.1:1/specloom",
        cwd=workspace,
    )
    assert result.returncode == 2
    assert "run store unavailable" in result.stderr
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_generate_on_postgresql_when_it_is_configured(workspace: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    probe = specloom("runs", "--store", url, cwd=workspace)
    if probe.returncode != 0 and not os.environ.get("CI"):
        pytest.skip(f"PostgreSQL is not reachable here: {probe.stderr.strip()}")
    assert probe.returncode == 0, probe.stderr
    result = specloom(
        "generate", "library.spec.md", "--out", "out", "--json", "--store", url, cwd=workspace
    )
    run = RunRecord.model_validate_json(result.stdout)
    listed = specloom("runs", "--store", url, "--limit", "50", cwd=workspace)
    assert run.id in listed.stdout


def test_validate_needs_an_app_in_out(workspace: Path) -> None:
    result = specloom("validate", "library.spec.md", "--out", "nothing", cwd=workspace)
    assert result.returncode == 2
    assert "holds no generated app" in result.stderr


def test_validate_without_trust_runs_no_generated_code_and_says_so(workspace: Path) -> None:
    assert specloom("generate", "library.spec.md", "--out", "out", cwd=workspace).returncode == 3
    result = specloom("validate", "library.spec.md", "--out", "out", "--json", cwd=workspace)
    run = RunRecord.model_validate_json(result.stdout)
    assert result.returncode == 3
    assert run.status == "incomplete"
    assert run.error.startswith("not verified: the workspace is not trusted")
    assert [p.status for p in run.phases[6:10]] == ["skipped"] * 4
    reference = next(p for p in run.phases if p.number == 6)
    assert reference.message.startswith("reference tree of")


def test_validate_with_trust_verifies_the_app_as_it_is(workspace: Path) -> None:
    assert specloom("generate", "library.spec.md", "--out", "out", cwd=workspace).returncode == 3
    result = subprocess.run(
        [SPECLOOM, "validate", "library.spec.md", "--out", "out", "--trust"],
        cwd=workspace, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr  # clean (11 skipped: nothing generated)
    assert "clean: 75 tests passed" in result.stderr
    assert "11 of 11 endpoints answered" in result.stderr
