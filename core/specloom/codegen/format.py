"""Formatting of a generated tree with ruff (format, then sorted and pruned imports),
in a scratch directory so nothing half-formatted ever reaches the output.

The scratch directory is in memory (`/dev/shm`) where the system has one: hundreds of
small files are written and read back there several times faster than on disk. ruff's
own executable is run directly when it sits beside the interpreter (no Python start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

MEMORY = Path("/dev/shm")


class FormatError(Exception):
    """ruff could not format the tree: generated code that does not parse."""


@cache
def ruff_command() -> tuple[str, ...]:
    """ruff's executable beside the interpreter (a virtual environment's), else the
    interpreter running ruff's module."""
    here = Path(sys.executable).parent
    for name in ("ruff", "ruff.exe"):
        candidate = here / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return (str(candidate),)
    return (sys.executable, "-m", "ruff")


def ruff(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ruff_command(), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def scratch_parent() -> str | None:
    """Where scratch directories go: memory when the system has it, else the default."""
    if MEMORY.is_dir() and os.access(MEMORY, os.W_OK | os.X_OK):
        return str(MEMORY)
    return None


def format_tree(files: dict[str, str]) -> dict[str, str]:
    """The same files, the Python ones formatted as `ruff format` and `ruff check --fix
    --select I,F401` leave them. Raises FormatError when a file does not parse."""
    python = sorted(path for path in files if path.endswith(".py"))
    if not python:
        return dict(files)
    with tempfile.TemporaryDirectory(prefix="specloom-format-", dir=scratch_parent()) as scratch:
        root = Path(scratch)
        for folder in sorted({(root / path).parent for path in files}):
            folder.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            (root / path).write_text(text, encoding="utf-8")
        fixed = ruff(
            "check",
            "--quiet",
            "--no-cache",
            "--select",
            "I,F401",
            "--fix",
            "--exit-zero",
            *python,
            cwd=root,
        )
        if fixed.returncode != 0:
            raise FormatError(fixed.stderr.strip() or fixed.stdout.strip())
        formatted = ruff("format", "--quiet", "--no-cache", *python, cwd=root)
        if formatted.returncode != 0:
            raise FormatError(
                f"ruff format failed ({formatted.returncode}): "
                + (formatted.stderr.strip() or formatted.stdout.strip())
            )
        result = dict(files)
        for path in python:
            result[path] = (root / path).read_text(encoding="utf-8")
        return result
