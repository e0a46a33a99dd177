"""`specloom doctor`: what it reports of each store and the model key, and its exit
status, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.backends.conftest import unreachable

SPECLOOM = Path(sys.executable).parent / "specloom"
CONFIGURATION = (
    "SPECLOOM_STORE_URL",
    "SPECLOOM_VECTOR_URL",
    "SPECLOOM_GRAPH_URL",
    "SPECLOOM_CACHE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
)


def doctor(workspace: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    return subprocess.run(
        [str(SPECLOOM), "doctor", "--workspace", str(workspace), *args],
        env={**base, "NO_COLOR": "1", "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def by_role(run: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {check["role"]: check for check in json.loads(run.stdout)["checks"]}


def test_embedded_stores_are_all_reachable_and_a_missing_key_is_not_a_failure(
    tmp_path: Path,
) -> None:
    run = doctor(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["run", "vectors", "graph", "cache", "model"]
    assert all(" reachable " in line for line in lines[:4])
    assert "not configured" in lines[4]
    assert "no ANTHROPIC_API_KEY" in lines[4]
    assert run.stderr == ""


def test_an_unreachable_redis_is_reported_with_its_password_masked(tmp_path: Path) -> None:
    url = "redis://specloom:hunter2secret@127.0.0.1:1/0"
    run = doctor(tmp_path, "--json", SPECLOOM_CACHE_URL=url)
    assert run.returncode == 1
    checks = by_role(run)
    assert checks["cache"]["status"] == "unreachable"
    assert checks["cache"]["implementation"] == "redis"
    assert checks["cache"]["where"] == "redis://specloom:***@127.0.0.1:1/0"
    assert checks["cache"]["detail"] == "connection refused"
    assert checks["run store"]["status"] == "reachable"
    assert "hunter2secret" not in run.stdout + run.stderr
    text = doctor(tmp_path, SPECLOOM_CACHE_URL=url)
    assert text.returncode == 1
    assert "hunter2secret" not in text.stdout + text.stderr
    assert "cache      redis        unreachable" in text.stdout


def test_a_reachable_redis_is_reported_reachable(tmp_path: Path) -> None:
    url = os.environ.get("SPECLOOM_TEST_REDIS", "redis://127.0.0.1:6379/0")
    run = doctor(tmp_path, "--json", SPECLOOM_CACHE_URL=url)
    cache = by_role(run)["cache"]
    if cache["status"] != "reachable":
        unreachable(f"Redis is not reachable: {cache['detail']}")
    assert run.returncode == 0
    assert cache["implementation"] == "redis"


def test_a_key_the_model_api_cannot_check_fails_and_is_never_printed(tmp_path: Path) -> None:
    key = "sk-ant-test-doctor-0123456789"
    run = doctor(tmp_path, "--json", ANTHROPIC_API_KEY=key, ANTHROPIC_BASE_URL="http://127.0.0.1:1")
    assert run.returncode == 1
    model = by_role(run)["model"]
    assert (model["status"], model["where"]) == ("unreachable", "http://127.0.0.1:1")
    assert key not in run.stdout + run.stderr


def test_the_doctor_reads_the_run_store_and_never_creates_or_migrates_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / ".specloom" / "specloom.db"
    fresh = by_role(doctor(tmp_path, "--json"))["run store"]
    assert fresh["status"] == "reachable"
    assert fresh["detail"] == "not created yet (the first run creates it)"
    assert not database.exists()

    import asyncio

    from specloom.store import migrate
    from specloom.store.urls import open_store

    async def create() -> None:
        store = await open_store(None, tmp_path)
        await store.close()

    asyncio.run(create())
    stamp = database.stat().st_mtime_ns
    made = by_role(doctor(tmp_path, "--json"))["run store"]
    assert made["detail"] == f"schema at migration {migrate.head_revision()}"
    assert database.stat().st_mtime_ns == stamp
