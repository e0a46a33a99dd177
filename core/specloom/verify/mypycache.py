"""mypy's cache, shared between workspaces through one seed per machine.

A cold mypy run spends nearly all its time on the libraries the app imports (FastAPI,
pydantic, SQLAlchemy): 6 to 30 s here, against 1 to 2 s warm. Every workspace keeps
its own cache (`<workspace>/.specloom/cache/mypy`); the first one made on a machine
for an interpreter and a set of requirements is also kept as a seed under
`$XDG_CACHE_HOME/specloom/mypy/<key>` (or `~/.cache/...`), and a workspace that has
no cache yet starts from a copy of it. mypy checks every cached module against its
source (size, mtime, hash), so what the seed holds of another app is simply analysed
again; a seed can be stale, never wrong.

The seed is written once, to a temporary directory renamed into place, and never
changed afterwards, so copying it while another run makes one is safe.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

REQUIREMENTS = "requirements.txt"


def seed_root() -> Path:
    """`$XDG_CACHE_HOME/specloom/mypy`, or `~/.cache/specloom/mypy`."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "specloom" / "mypy"


def seed_key(python: str, app_dir: Path) -> str:
    """The interpreter (its real path) and the app's requirements, hashed."""
    try:
        requirements = (app_dir / REQUIREMENTS).read_bytes()
    except OSError:
        requirements = b""
    digest = hashlib.sha256()
    for part in (os.path.realpath(python).encode(), sys.version.encode(), requirements):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def seed(cache_dir: Path, python: str, app_dir: Path, root: Path | None = None) -> bool:
    """Start a workspace's missing cache from the machine's seed; True when it did."""
    if cache_dir.exists():
        return False
    source = (root or seed_root()) / seed_key(python, app_dir)
    if not source.is_dir():
        return False
    return _copy(source, cache_dir)


def keep(cache_dir: Path, python: str, app_dir: Path, root: Path | None = None) -> bool:
    """Keep a workspace's cache as the machine's seed when there is none yet; True when
    it did."""
    target = (root or seed_root()) / seed_key(python, app_dir)
    if target.exists() or not cache_dir.is_dir():
        return False
    return _copy(cache_dir, target)


def _copy(source: Path, target: Path) -> bool:
    """Copy a directory to a new one, whole or not at all (a temporary directory renamed
    into place); False when the target appeared meanwhile or the copy failed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        os.replace(staging, target)
    except OSError:  # another run made it first, or the disk is full
        shutil.rmtree(staging, ignore_errors=True)
        return False
    return True
