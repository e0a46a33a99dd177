"""Formatting of a generated tree with ruff (format, then sorted and pruned imports),
in a scratch directory so nothing half-formatted ever reaches the output."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


class FormatError(Exception):
    """ruff could not format the tree: generated code that does not parse."""


def ruff(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def format_tree(files: dict[str, str]) -> dict[str, str]:
    """The same files, the Python ones formatted as `ruff format` and `ruff check --fix
    --select I,F401` leave them. Raises FormatError when a file does not parse."""
    python = sorted(path for path in files if path.endswith(".py"))
    if not python:
        return dict(files)
    with tempfile.TemporaryDirectory(prefix="specloom-format-") as scratch:
        root = Path(scratch)
        for path, text in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        fixed = ruff(
            "check", "--quiet", "--select", "I,F401", "--fix", "--exit-zero", *python, cwd=root
        )
        if fixed.returncode != 0:
            raise FormatError(fixed.stderr.strip() or fixed.stdout.strip())
        formatted = ruff("format", "--quiet", *python, cwd=root)
        if formatted.returncode != 0:
            raise FormatError(
                f"ruff format failed ({formatted.returncode}): "
                + (formatted.stderr.strip() or formatted.stdout.strip())
            )
        result = dict(files)
        for path in python:
            result[path] = (root / path).read_text(encoding="utf-8")
        return result
