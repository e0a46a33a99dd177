"""Staging: a run writes into a directory of its own and commits to the output
directory only when it ends well, so a cancelled or failed run leaves the output
exactly as it was and no reader ever sees a half-written file.

Commit writes a manifest first and replaces files one by one with `os.replace`;
a commit cut short by a crash is finished by running it again (it is idempotent).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path


class OutsideOutput(ValueError):
    """A path that would land outside the output directory."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Staging:
    """The files one run has produced so far, kept apart from the output directory."""

    MANIFEST = "commit.json"

    def __init__(self, run_dir: Path, out_dir: Path) -> None:
        self.root = run_dir / "staging"
        self.manifest = run_dir / self.MANIFEST
        self.out_dir = out_dir

    def _inside(self, base: Path, relative: str) -> Path:
        target = (base / relative).resolve()
        if not target.is_relative_to(base.resolve()):
            raise OutsideOutput(f"'{relative}' would be written outside {base}")
        return target

    def write(self, relative: str, data: bytes | str) -> Path:
        content = data.encode("utf-8") if isinstance(data, str) else data
        target = self._inside(self.root, relative)
        atomic_write(target, content)
        return target

    def files(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file()
        )

    def commit(self) -> list[str]:
        """Move every staged file into the output directory; returns the paths."""
        files = self.files()
        if not files and not self.manifest.exists():
            return []
        if files:
            atomic_write(self.manifest, json.dumps({"files": files}).encode("utf-8"))
        else:
            files = json.loads(self.manifest.read_text("utf-8"))["files"]
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for relative in files:
            source = self.root / relative
            target = self._inside(self.out_dir, relative)
            if not source.exists():
                continue  # moved by an earlier, interrupted commit
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(source, target)
            except OSError:
                # another file system: copy next to the target, then replace
                atomic_write(target, source.read_bytes())
                source.unlink()
        self.manifest.unlink(missing_ok=True)
        self.discard()
        return files

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
