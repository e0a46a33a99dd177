"""Committing over an output directory the user has worked in: files generated as
they are on disk are not touched, files the user edited are kept (a conflict, the
generated version put aside), `.specloom-generated.json` records what was generated."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from specloom.cli_pipeline import commit_lines
from specloom.pipeline.generated import RECORD_NAME, keep_mine
from specloom.pipeline.orchestrator import Orchestrator, run_directory
from specloom.pipeline.phase import PipelineSettings
from specloom.pipeline.staging import CommitResult, Staging
from specloom.store.sql import SqlRunStore
from specloom.store.urls import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPECLOOM = str(Path(sys.executable).parent / "specloom")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit(
    tmp_path: Path,
    files: dict[str, str],
    *,
    run: str = "run",
    overwrite: bool = False,
    complete: bool = False,
) -> CommitResult:
    staging = Staging(tmp_path / run, tmp_path / "out")
    for relative, text in files.items():
        staging.write(relative, text)
    return staging.commit(overwrite=overwrite, complete=complete)


def stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def test_a_file_generated_as_it_is_on_disk_is_not_touched(tmp_path: Path) -> None:
    commit(tmp_path, {"app/a.py": "a = 1\n", "app/b.py": "b = 1\n"})
    out = tmp_path / "out"
    before = {name: stamp(out / name) for name in ("app/a.py", "app/b.py", RECORD_NAME)}
    result = commit(tmp_path, {"app/a.py": "a = 1\n", "app/b.py": "b = 2\n"}, run="run2")
    assert result.unchanged == ["app/a.py"]
    assert result.written == ["app/b.py"]
    assert stamp(out / "app/a.py") == before["app/a.py"]  # same inode, same mtime
    assert stamp(out / "app/b.py") != before["app/b.py"]
    record = stamp(out / RECORD_NAME)
    again = commit(tmp_path, {"app/a.py": "a = 1\n", "app/b.py": "b = 2\n"}, run="run3")
    assert again.written == []
    assert stamp(out / RECORD_NAME) == record  # nothing new: the record is not rewritten


def test_the_record_maps_each_generated_file_to_its_sha256_in_sorted_order(
    tmp_path: Path,
) -> None:
    commit(tmp_path, {"z.txt": "z", "app/main.py": "print()\n", "a.txt": "a"})
    text = (tmp_path / "out" / RECORD_NAME).read_text()
    record = json.loads(text)
    assert record["files"] == {
        "a.txt": sha(b"a"),
        "app/main.py": sha(b"print()\n"),
        "z.txt": sha(b"z"),
    }
    assert list(record["files"]) == sorted(record["files"])
    assert record["kept"] == {}
    assert text == json.dumps(record, indent=1, sort_keys=True) + "\n"


def test_a_file_edited_since_it_was_generated_is_kept_and_the_new_version_put_aside(
    tmp_path: Path,
) -> None:
    commit(tmp_path, {"app/x.py": "x = 1\n"})
    target = tmp_path / "out" / "app/x.py"
    target.write_text("x = 1  # mine\n")
    result = commit(tmp_path, {"app/x.py": "x = 2\n"}, run="run2")
    assert result.written == []
    [conflict] = result.conflicts
    assert (conflict.path, conflict.reason) == ("app/x.py", "edited")
    assert target.read_text() == "x = 1  # mine\n"
    assert Path(conflict.generated) == tmp_path / "run2" / "conflicts" / "app/x.py"
    assert Path(conflict.generated).read_text() == "x = 2\n"
    assert "kept your edit of app/x.py" in conflict.message()
    # the baseline stays what was generated: the next run sees the edit again
    record = json.loads((tmp_path / "out" / RECORD_NAME).read_text())
    assert record["files"]["app/x.py"] == sha(b"x = 1\n")
    assert len(commit(tmp_path, {"app/x.py": "x = 2\n"}, run="run3").conflicts) == 1


def test_an_edit_that_matches_the_new_generated_file_is_not_a_conflict(tmp_path: Path) -> None:
    commit(tmp_path, {"app/x.py": "x = 1\n"})
    (tmp_path / "out" / "app/x.py").write_text("x = 2\n")
    result = commit(tmp_path, {"app/x.py": "x = 2\n"}, run="run2")
    assert result.conflicts == []
    assert result.unchanged == ["app/x.py"]
    record = json.loads((tmp_path / "out" / RECORD_NAME).read_text())
    assert record["files"]["app/x.py"] == sha(b"x = 2\n")


def test_overwrite_replaces_an_edited_file_and_says_so(tmp_path: Path) -> None:
    commit(tmp_path, {"app/x.py": "x = 1\n"})
    (tmp_path / "out" / "app/x.py").write_text("x = 1  # mine\n")
    result = commit(tmp_path, {"app/x.py": "x = 2\n"}, run="run2", overwrite=True)
    assert result.conflicts == []
    assert result.written == ["app/x.py"]
    assert result.overwritten == ["app/x.py"]
    assert (tmp_path / "out" / "app/x.py").read_text() == "x = 2\n"


def test_a_file_no_longer_generated_is_deleted_unless_it_was_edited(tmp_path: Path) -> None:
    commit(tmp_path, {"keep.py": "k\n", "gone.py": "g\n", "edited.py": "e\n"})
    out = tmp_path / "out"
    (out / "edited.py").write_text("e  # mine\n")
    result = commit(tmp_path, {"keep.py": "k\n"}, run="run2", complete=True)
    assert result.deleted == ["gone.py"]
    assert result.left == ["edited.py"]
    assert not (out / "gone.py").exists()
    assert (out / "edited.py").read_text() == "e  # mine\n"
    record = json.loads((out / RECORD_NAME).read_text())
    assert sorted(record["files"]) == ["keep.py"]


def test_a_partial_tree_deletes_nothing(tmp_path: Path) -> None:
    commit(tmp_path, {"keep.py": "k\n", "other.py": "o\n"})
    result = commit(tmp_path, {"keep.py": "k\n"}, run="run2")  # not the whole tree
    assert result.deleted == []
    assert (tmp_path / "out" / "other.py").exists()


def test_keep_mine_holds_until_the_generator_has_something_new(tmp_path: Path) -> None:
    commit(tmp_path, {"app/x.py": "x = 1\n"})
    out = tmp_path / "out"
    (out / "app/x.py").write_text("x = 1  # mine\n")
    keep_mine(out, "app/x.py", b"x = 2\n")
    same = commit(tmp_path, {"app/x.py": "x = 2\n"}, run="run2")
    assert (same.conflicts, same.kept) == ([], ["app/x.py"])
    assert (out / "app/x.py").read_text() == "x = 1  # mine\n"
    changed = commit(tmp_path, {"app/x.py": "x = 3\n"}, run="run3")
    assert [(c.path, c.reason) for c in changed.conflicts] == [("app/x.py", "kept")]
    assert (out / "app/x.py").read_text() == "x = 1  # mine\n"


def test_a_file_of_yours_where_a_new_file_is_generated_is_a_conflict(tmp_path: Path) -> None:
    commit(tmp_path, {"app/a.py": "a\n"})
    (tmp_path / "out" / "app/new.py").write_text("my own module\n")
    result = commit(tmp_path, {"app/a.py": "a\n", "app/new.py": "generated\n"}, run="run2")
    assert [(c.path, c.reason) for c in result.conflicts] == [("app/new.py", "untracked")]
    assert (tmp_path / "out" / "app/new.py").read_text() == "my own module\n"


# --- a whole run, and the command line ----------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the library app generated into out/ once (not trusted)."""
    workspace = tmp_path_factory.mktemp("ws")
    shutil.copy(EXAMPLES / "library.spec.md", workspace / "library.spec.md")

    async def generate() -> str:
        store = await open_store(None, workspace)
        try:
            run = await Orchestrator(store).run(
                workspace / "library.spec.md", workspace / "out", workspace
            )
        finally:
            await store.close()
        return run.status

    assert asyncio.run(generate()) == "incomplete"
    return workspace


@pytest.fixture
def workspace(generated: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(generated, copy, ignore=shutil.ignore_patterns(".specloom"))
    return copy


@pytest.fixture
async def store(workspace: Path) -> AsyncIterator[SqlRunStore]:
    opened = await open_store(None, workspace)
    yield opened
    await opened.close()


async def test_a_run_over_an_edited_file_records_the_conflict_and_touches_nothing_else(
    workspace: Path, store: SqlRunStore
) -> None:
    out = workspace / "out"
    main = out / "app" / "main.py"
    main.write_text(main.read_text() + "# my tweak\n")
    stamps = {p: stamp(p) for p in out.rglob("*") if p.is_file()}
    orchestrator = Orchestrator(store, settings=PipelineSettings())
    run = await orchestrator.run(workspace / "library.spec.md", out, workspace)
    assert run.status == "incomplete"
    assert {p: stamp(p) for p in out.rglob("*") if p.is_file()} == stamps
    result = orchestrator.commits[run.id]
    assert result.written == []
    assert [c.path for c in result.conflicts] == ["app/main.py"]
    kept = run_directory(workspace, run.id) / "conflicts" / "app" / "main.py"
    assert result.conflicts[0].generated == str(kept)
    assert kept.read_text() + "# my tweak\n" == main.read_text()
    audit = {entry.action: entry.detail for entry in await store.list_audit(run.id)}
    assert audit["output.conflicts"]["conflicts"][0]["path"] == "app/main.py"
    assert audit["output.committed"]["files"] == []
    assert "plan.md" in audit["output.committed"]["unchanged"]


def test_the_command_line_names_each_conflict_and_where_the_generated_version_is(
    tmp_path: Path,
) -> None:
    commit(tmp_path, {"app/x.py": "x = 1\n"})
    (tmp_path / "out" / "app/x.py").write_text("x = 1  # mine\n")
    lines = commit_lines(commit(tmp_path, {"app/x.py": "x = 2\n"}, run="run2"))
    kept = tmp_path / "run2" / "conflicts" / "app" / "x.py"
    assert lines[0] == "output: 0 written, 0 unchanged, 1 conflicts"
    assert lines[1] == f"conflict: kept your edit of app/x.py; the generated version is at {kept}"
    assert "--overwrite" in lines[-1]


def test_generate_overwrite_takes_the_generated_file_over_an_edit(workspace: Path) -> None:
    main = workspace / "out" / "app" / "main.py"
    generated = main.read_text()
    main.write_text(generated + "# my tweak\n")
    taken = subprocess.run(
        [SPECLOOM, "generate", "library.spec.md", "--out", "out", "--overwrite", "--json"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert taken.returncode == 3, taken.stderr  # conflicts or not: the run's status
    output = json.loads(taken.stdout)["output"]
    assert output["overwritten"] == ["app/main.py"]
    assert output["conflicts"] == []
    assert main.read_text() == generated
    assert os.stat(main).st_mode & 0o777 == 0o644
