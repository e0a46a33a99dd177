"""Phase 6 as a user sees it: the tree generated from a spec is deterministic, clean
under ruff and mypy, free of placeholders, traced to the spec, and it starts."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from generated_apps import EXAMPLES, STRUCTURED, app_env, generate_tree, run_tool

PLACEHOLDERS = [
    (re.compile(r"\bTODO\b|\bFIXME\b|\bXXX\b"), "a to-do marker"),
    (re.compile(r"^\s*pass\s*(#.*)?$", re.MULTILINE), "a `pass` placeholder"),
    (re.compile(r"NotImplementedError"), "NotImplementedError"),
    (re.compile(r"\b501\b"), "a 501 answer"),
    (re.compile(r"^\s*\.\.\.\s*$", re.MULTILINE), "an `...` body"),
]


def test_the_same_spec_gives_a_byte_identical_tree() -> None:
    text = (EXAMPLES / "timesheet.spec.md").read_text()
    first = generate_tree(text, "timesheet.spec.md")
    second = generate_tree(text, "timesheet.spec.md")
    assert first == second


def test_another_process_with_another_hash_seed_writes_the_same_tree(
    example_app: Callable[[str], Path], tmp_path: Path
) -> None:
    here = example_app("library.spec.md")
    (tmp_path / "library.spec.md").write_text((EXAMPLES / "library.spec.md").read_text())
    specloom = str(Path(sys.executable).parent / "specloom")
    subprocess.run(
        [specloom, "generate", "library.spec.md", "--out", "out"],
        cwd=tmp_path,
        env={**app_env(), "PYTHONHASHSEED": "12345"},
        capture_output=True,
        timeout=300,
        check=False,
    )
    there = tmp_path / "out"
    ours = sorted(p.relative_to(here).as_posix() for p in here.rglob("*") if p.is_file())
    for relative in ours:
        assert (there / relative).read_bytes() == (here / relative).read_bytes(), relative


@pytest.mark.parametrize("spec", STRUCTURED)
def test_the_generated_code_passes_ruff(example_app: Callable[[str], Path], spec: str) -> None:
    root = example_app(spec)
    result = run_tool("ruff", "check", "--no-cache", "app", "tests", cwd=root)
    assert result.returncode == 0, result.stdout
    formatted = run_tool("ruff", "format", "--check", "--no-cache", "app", "tests", cwd=root)
    assert formatted.returncode == 0, formatted.stdout


@pytest.mark.parametrize("spec", STRUCTURED)
def test_the_generated_code_passes_mypy_strict(
    example_app: Callable[[str], Path], spec: str, mypy_cache: Path
) -> None:
    root = example_app(spec)
    result = run_tool("mypy", "--cache-dir", str(mypy_cache), "app", "tests", cwd=root)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("spec", STRUCTURED)
def test_the_generated_tree_holds_no_placeholder(
    example_app: Callable[[str], Path], spec: str
) -> None:
    root = example_app(spec)
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        for pattern, what in PLACEHOLDERS:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(root)}:{line}: {what}")
    assert found == []


@pytest.mark.parametrize("spec", STRUCTURED)
def test_every_requirement_is_traced_to_code_and_tests(
    example_app: Callable[[str], Path], spec: str
) -> None:
    root = example_app(spec)
    trace = json.loads((root / "specloom-trace.json").read_text())
    assert trace["spec"] == spec
    untraced = [rid for rid, entry in trace["requirements"].items() if not entry["code"]]
    untested = [rid for rid, entry in trace["requirements"].items() if not entry["tests"]]
    assert untraced == []
    assert untested == []
    for entry in trace["requirements"].values():
        for location in entry["code"] + entry["tests"]:
            lines = (root / location["path"]).read_text().splitlines()
            first = location["range"]["start"]["line"]
            assert first < len(lines)
            if location["symbol"]:
                head = "\n".join(lines[first : location["range"]["end"]["line"]])
                assert location["symbol"] in head


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_uvicorn_starts_the_app_and_it_creates_its_tables(
    example_app: Callable[[str], Path], tmp_path: Path
) -> None:
    root = example_app("library.spec.md")
    port = _free_port()
    database = tmp_path / "library.db"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)],
        cwd=root,
        env=app_env(f"sqlite:///{database}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.1)
        assert body == {"status": "ok"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/members",
            data=json.dumps({"email": "ada@example.com", "full_name": "Ada"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 201
            assert json.loads(answer.read())["status"] == "ACTIVE"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=5) as r:
            paths = json.loads(r.read())["paths"]
        assert "/loans/{id}/return" in paths
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert database.exists()
