"""The proof of phase 6: the application generated from each structured example
passes its own generated test suite, on SQLite and on PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import pytest
from generated_apps import STRUCTURED, app_env, run_tool


def run_suite(root: Path, report: Path, database_url: str | None) -> tuple[int, int, str]:
    """(tests run, tests failed or in error, output) of the app's own pytest suite."""
    result = run_tool(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
        cwd=root,
        env=app_env(database_url),
        timeout=600,
    )
    if not report.exists():
        return 0, 1, result.stdout + result.stderr
    suite = ElementTree.parse(report).getroot()
    suites = [suite] if suite.tag == "testsuite" else list(suite.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    return tests, bad, result.stdout[-6000:]


@pytest.mark.parametrize("spec", STRUCTURED)
def test_the_generated_suite_passes_on_sqlite(
    example_app: Callable[[str], Path], spec: str, tmp_path: Path
) -> None:
    tests, bad, output = run_suite(example_app(spec), tmp_path / "report.xml", None)
    assert tests > 0, output
    assert bad == 0, output


@pytest.mark.parametrize("spec", STRUCTURED)
def test_the_generated_suite_passes_on_postgresql(
    example_app: Callable[[str], Path], spec: str, tmp_path: Path, postgres_database: str
) -> None:
    tests, bad, output = run_suite(example_app(spec), tmp_path / "report.xml", postgres_database)
    assert tests > 0, output
    assert bad == 0, output
