"""Helpers of the code generation tests: generate a tree, write it, run tools on it."""

from __future__ import annotations

import os
import subprocess
import sys
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
