"""The generated test modules of every example spec: valid Python, byte-identical from
one run to the next, clean under ruff, free of placeholders, and a test (or a comment
saying why not) for every requirement ID of each task."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from specloom.codegen.testgen import render_conftest, render_test_module
from specloom.plan import naming
from specloom.plan.model import Task
from specloom.plan.planner import plan_tasks
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPECS = sorted(p.name for p in EXAMPLES.glob("*.spec.md") if p.name != "prose.spec.md")
TEST = re.compile(
    r'^def (test_\w+)\(client: TestClient, db: Session\) -> None:\n    """(.*?)"""', re.S | re.M
)
PLACEHOLDER = re.compile(
    r"\bTODO\b|\bFIXME\b|^\s*pass$|pytest\.skip|@pytest\.mark\.skip|\.\.\.$", re.M
)

Rendered = dict[str, tuple[Task, str]]


def render(spec: str) -> tuple[Rendered, str]:
    ir = compile_spec((EXAMPLES / spec).read_text(encoding="utf-8")).ir
    modules: Rendered = {}
    for task in plan_tasks(ir):
        if task.kind == "tests":
            path = task.atomic.produces[0].path if task.atomic else f"tests/{task.subject}.py"
            modules[path] = (task, render_test_module(ir, task.subject, task.requirement_ids))
    return modules, render_conftest(ir)


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[Rendered, str]]:
    return {spec: render(spec) for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS)
def test_every_requirement_is_tested_or_explained(
    spec: str, rendered: dict[str, tuple[Rendered, str]]
) -> None:
    modules, _ = rendered[spec]
    for path, (task, text) in modules.items():
        compile(text, path, "exec")
        assert PLACEHOLDER.search(text) is None, path
        tests = TEST.findall(text)
        assert tests, path
        for name, doc in tests:
            assert re.search(r"\n\s*Requirements: [^\n]+\.\n\s*$", doc), (path, name)
        for requirement in task.requirement_ids:
            prefix = f"test_{naming.identifier(requirement)}"
            named = [
                name
                for name, doc in tests
                if name.startswith(prefix)
                and re.search(rf"Requirements: .*{re.escape(requirement)}[,.]", doc)
            ]
            explained = [
                line for line in text.splitlines() if line.startswith("#") and requirement in line
            ]
            assert named or explained, (path, requirement)


def test_rendering_is_deterministic(rendered: dict[str, tuple[Rendered, str]]) -> None:
    spec = "timesheet.spec.md"
    modules, conftest = render(spec)
    assert conftest == rendered[spec][1]
    assert {path: text for path, (_, text) in modules.items()} == {
        path: text for path, (_, text) in rendered[spec][0].items()
    }


def test_the_modules_pass_ruff(rendered: dict[str, tuple[Rendered, str]], tmp_path: Path) -> None:
    for spec, (modules, conftest) in rendered.items():
        root = tmp_path / spec.split(".")[0]
        (root / "tests").mkdir(parents=True)
        (root / "tests" / "conftest.py").write_text(conftest, encoding="utf-8")
        for path, (_, text) in modules.items():
            (root / path).write_text(text, encoding="utf-8")
    config = [
        "--config",
        "line-length = 100",
        "--config",
        "target-version = 'py311'",
    ]
    lint = [
        *config,
        "--config",
        "lint.select = ['E', 'F', 'W', 'I', 'B', 'UP']",
        "--config",
        "lint.isort.known-first-party = ['app', 'tests']",
    ]
    ruff = [sys.executable, "-m", "ruff"]
    formatted = subprocess.run(
        [*ruff, "format", *config, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert formatted.returncode == 0, formatted.stderr
    # nothing for ruff to fix but the order of imports
    strict = subprocess.run(
        [*ruff, "check", *lint, "--config", "lint.ignore = ['I']", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert strict.returncode == 0, strict.stdout
    checked = subprocess.run(
        [*ruff, "check", "--fix", *lint, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_conftest_builds_fresh_tables_and_the_fixtures() -> None:
    ir = compile_spec((EXAMPLES / "library.spec.md").read_text(encoding="utf-8")).ir
    text = render_conftest(ir)
    compile(text, "conftest.py", "exec")
    assert 'os.environ.setdefault("DATABASE_URL"' in text
    fixtures = (
        "def tables()",
        "def empty_tables(tables: None)",
        "def running_app(tables: None)",
        "def client(running_app: TestClient)",
        "def db()",
    )
    for fixture in fixtures:
        assert fixture in text
    # the app starts once for the run; each test gets it without an earlier test's cookies
    assert '@pytest.fixture(scope="session")\ndef running_app' in text
    assert "running_app.cookies.clear()" in text
    assert "Base.metadata.drop_all(engine)" in text
    assert "RESTART IDENTITY CASCADE" in text
