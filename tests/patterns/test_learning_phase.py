"""Phase 11 as a user meets it: `specloom generate --trust` learns the patterns of a run
that verified clean, and the next run reuses them; a run that did not run the app, or
with learning off, learns nothing and says why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SPECLOOM = str(Path(sys.executable).parent / "specloom")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def generate(workspace: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [SPECLOOM, "generate", "todo.spec.md", "--out", "out", "--json", *extra],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode in (0, 3), done.stderr
    record: dict[str, Any] = json.loads(done.stdout)
    return record


def plan_tasks(record: dict[str, Any]) -> list[str]:
    return [task["task_id"] for task in record["tasks"]]


def phase(record: dict[str, Any], number: int) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in record["phases"] if p["number"] == number)
    return found


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLES / "todo.spec.md", tmp_path / "todo.spec.md")
    return tmp_path


def test_a_clean_run_teaches_the_next_one(workspace: Path) -> None:
    first = generate(workspace, "--trust")
    assert first["status"] == "passed", first["error"]  # every phase there and clean
    learning = phase(first, 11)
    tasks = phase(first, 6)["detail"]["reuse"]["tasks"]
    shell = sum(name.split(":")[0] in ("app", "infra") for name in plan_tasks(first))
    shared = tasks - shell  # the shell's tasks are always rendered anew, never kept
    assert learning["status"] == "passed"
    assert learning["message"].startswith(f"{shared} new patterns, 0 confirmed")
    assert learning["detail"]["patterns"] == shared
    assert phase(first, 6)["detail"]["reuse"]["reused"] == 0

    second = generate(workspace, "--trust")
    assert second["status"] == "passed", second["error"]
    reuse = phase(second, 6)["detail"]["reuse"]
    assert reuse == {
        "tasks": tasks,
        "reused": shared,
        "memory": 0,
        "library": shared,
        "rate": round(shared / tasks, 3),
    }
    message = phase(second, 6)["message"]
    assert f"{shared} of {tasks} tasks reused ({shared} from the pattern library)" in message
    assert second["output"]["written"] == []  # the same code, byte for byte
    assert phase(second, 11)["message"].startswith(f"0 new patterns, {shared} confirmed")


def test_an_untrusted_run_learns_nothing(workspace: Path) -> None:
    record = generate(workspace)
    assert record["status"] == "incomplete"  # not verified
    learning = phase(record, 11)
    assert learning["status"] == "skipped"
    assert "nothing verified to learn from" in learning["message"]
    assert not (workspace / ".specloom" / "graph.json").exists()


def test_learning_off_says_so(workspace: Path) -> None:
    record = generate(workspace, "--trust", env={"SPECLOOM_LEARNING": "0"})
    learning = phase(record, 11)
    assert learning["status"] == "skipped"
    assert learning["message"] == "learning is off (SPECLOOM_LEARNING=0)"
    assert not (workspace / ".specloom" / "vectors").exists()
    assert not (workspace / ".specloom" / "graph.json").exists()
