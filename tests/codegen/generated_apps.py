"""Helpers of the code generation tests: generate a tree, write it, run tools on it."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import psycopg
from specloom.codegen.generator import Generator
from specloom.plan.dag import make_plan
from specloom.spec.compiler import compile_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STRUCTURED = sorted(p.name for p in EXAMPLES.glob("*.spec.md") if p.name != "prose.spec.md")
ADMIN_DSN = os.environ.get(
    "SPECLOOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE_PREFIX = "specloom_app_"

Tree = dict[str, str]


def generate_tree(spec_text: str, spec_name: str = "spec.md") -> Tree:
    """Phases 1 to 6 in process: the generated files, path -> text."""
    result = compile_spec(spec_text)
    assert result.errors == [], [d.format(spec_name) for d in result.errors]
    plan, problems = make_plan(result.ir, "test")
    assert problems == []
    return Generator(result.ir, plan, spec_name=spec_name).generate()


def write_tree(tree: Tree, root: Path) -> Path:
    for path, text in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def run_tool(
    *command: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def admin(statement: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3) as connection:
        connection.execute(statement)  # type: ignore[arg-type]  # test-made names only


def app_env(database_url: str | None = None) -> dict[str, str]:
    """The environment a generated app's tests run in: no Specloom settings, no secrets."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def run_app_suite(
    root: Path, report: Path, database_url: str | None = None, paths: tuple[str, ...] = ()
) -> tuple[int, int, str]:
    """(tests run, tests failed or in error, output) of the app's own pytest suite (or of
    `paths` in it), read from its JUnit report."""
    result = run_tool(
        "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *paths,
        cwd=root, env=app_env(database_url), timeout=600,
    )  # fmt: skip
    if not report.exists():
        return 0, 1, result.stdout + result.stderr
    suite = ElementTree.parse(report).getroot()
    suites = [suite] if suite.tag == "testsuite" else list(suite.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    return tests, bad, result.stdout[-6000:] + result.stderr[-2000:]
