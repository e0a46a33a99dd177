"""The checks of phase 9, validation. Each one runs on its own and gives a `CheckResult`:
its findings, located through the trace map, and its figures.

- `syntax`: every Python file of the app compiles (with the app's interpreter);
- `lint`: ruff, configured by the app's `pyproject.toml`;
- `typecheck`: mypy, with the app's interpreter;
- `suite`: the generated pytest suite, read from its JUnit XML report;
- `compliance`: the app's OpenAPI against the IR, and the IR's requirements against the
  trace map.
"""

from __future__ import annotations

from specloom.verify.checks.common import CheckResult

__all__ = ["CheckResult"]
