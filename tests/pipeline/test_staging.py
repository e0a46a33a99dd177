"""Staging and commit: the output directory only ever sees whole files of a whole run."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from specloom.pipeline.generated import RECORD_NAME
from specloom.pipeline.staging import FileChange, OutsideOutput, Staging, atomic_write


def tree(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_staged_files_reach_the_output_only_on_commit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    staging = Staging(tmp_path / "run", out)
    staging.write("app/main.py", "print('hi')\n")
    assert not out.exists()
    assert staging.commit().written == ["app/main.py"]
    assert (out / "app/main.py").read_text() == "print('hi')\n"
    assert staging.files() == []


def test_discarding_leaves_the_output_exactly_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "app").mkdir(parents=True)
    (out / "app/main.py").write_text("mine\n")
    before = tree(out)
    staging = Staging(tmp_path / "run", out)
    staging.write("app/main.py", "generated\n")
    staging.write("app/new.py", "generated\n")
    staging.discard()
    assert tree(out) == before


def test_a_path_outside_the_output_is_refused(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "run", tmp_path / "out")
    with pytest.raises(OutsideOutput):
        staging.write("../../etc/passwd", "x")


def test_a_write_that_fails_midway_leaves_no_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomic_write(target, object())  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_a_commit_cut_short_is_finished_by_committing_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    staging = Staging(tmp_path / "run", out)
    for name in ("a.txt", "b.txt", "c.txt"):
        staging.write(name, name)

    async def crash_after_one(changes: list[FileChange]) -> list[str]:
        atomic_write(changes[0].target, changes[0].data)
        raise OSError("the machine went down")

    with pytest.raises(OSError, match="went down"):
        asyncio.run(staging.commit_with(crash_after_one))
    Staging(tmp_path / "run", out).commit()
    assert sorted(tree(out)) == [RECORD_NAME, "a.txt", "b.txt", "c.txt"]
    assert staging.files() == []
