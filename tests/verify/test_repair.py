"""Phase 8's deterministic strategies: from findings to the narrowest change that puts
back what the generated tree holds, and nothing the generator never wrote."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from specloom.verify.findings import Finding, Span
from specloom.verify.repair import apply, propose, restore_lines
from specloom.verify.state import VerifyState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "codegen"))
from generated_apps import EXAMPLES, generate_tree, write_tree

Tree = dict[str, str]


@pytest.fixture(scope="module")
def library() -> Tree:
    return generate_tree((EXAMPLES / "library.spec.md").read_text(encoding="utf-8"))


@pytest.fixture
def app(library: Tree, tmp_path: Path) -> VerifyState:
    return VerifyState(app_dir=write_tree(library, tmp_path / "app"), reference=library)


def edit(state: VerifyState, path: str, old: str, new: str) -> None:
    target = state.app_dir / path
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(state: VerifyState, path: str, needle: str) -> int:
    lines = (state.app_dir / path).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines) if needle in line)


def test_restore_lines_undoes_only_the_hunks_it_is_told() -> None:
    reference = "a\nb\nc\nd\ne\nf\ng\n"
    current = "a\nB\nc\nd\ne\nF\ng\n"
    assert restore_lines(current, reference, [(1, 2)]) == "a\nb\nc\nd\ne\nF\ng\n"
    assert restore_lines(current, reference, [(5, 6)]) == "a\nB\nc\nd\ne\nf\ng\n"
    assert restore_lines(current, reference, None) == reference
    # a line replaced is restored whole, however the diff aligns it
    assert restore_lines("ok\nbroken\nok\n", "ok\nok\nok\n", [(1, 2)]) == "ok\nok\nok\n"
    # a deleted line comes back where the range touches the place it was
    assert restore_lines("a\nc\n", "a\nb\nc\n", [(1, 2)]) == "a\nb\nc\n"


def test_a_deleted_file_is_written_again(app: VerifyState) -> None:
    (app.app_dir / "app/services/f8_borrow_a_book.py").unlink()
    app.report("tests", [Finding(check="tests", kind="test-failed", message="ImportError")])
    patch = propose(app)
    assert patch.reasons == {"restore-files": ["app/services/f8_borrow_a_book.py"]}
    apply(app, patch)
    path = "app/services/f8_borrow_a_book.py"
    assert (app.app_dir / path).read_text(encoding="utf-8") == app.reference[path]


def test_a_removed_import_is_put_back_and_the_rest_of_the_users_edits_stay(
    app: VerifyState,
) -> None:
    path = "app/routers/book.py"
    edit(app, path, "from app.rules import commit\n", "")
    edit(
        app,
        path,
        "    record = Book(**data.model_dump())",
        "    record = Book(**data.model_dump())  # mine",
    )
    usage = line_of(app, path, "    commit(session)")
    finding = Finding(
        check="ruff", kind="F821", message="Undefined name `commit`", file=path,
        range=Span.lines(usage),
    )  # fmt: skip
    app.report("ruff", [finding])
    patch = propose(app)
    assert list(patch.reasons) == ["restore-imports"]
    fixed = patch.changes[path]
    assert fixed is not None
    assert "from app.rules import commit\n" in fixed
    assert "# mine" in fixed


def test_a_changed_status_in_a_guard_is_restored_from_the_failing_tests_requirement(
    app: VerifyState,
) -> None:
    path = "app/services/f8_borrow_a_book.py"
    edit(app, path, 'AppError(409, "no copy available")', 'AppError(418, "no copy available")')
    finding = Finding(
        check="tests", kind="test-failed", message="assert 418 == 409",
        file="tests/test_f8_borrow_a_book.py", requirement_id="F8",
    )  # fmt: skip
    app.report("tests", [finding])
    patch = propose(app)
    assert patch.reasons == {"restore-lines": [path]}
    assert patch.changes[path] == app.reference[path]


def test_a_file_the_generator_never_wrote_is_not_touched(app: VerifyState) -> None:
    mine = app.app_dir / "app" / "mine.py"
    mine.write_text("def broken(:\n", encoding="utf-8")
    finding = Finding(
        check="syntax", kind="syntax-error", message="invalid syntax", file="app/mine.py",
        range=Span.lines(0),
    )  # fmt: skip
    app.report("syntax", [finding])
    assert not propose(app)
    shutil.rmtree(app.app_dir / "app" / "__pycache__", ignore_errors=True)
    assert mine.read_text(encoding="utf-8") == "def broken(:\n"


def test_the_whole_module_is_restored_only_when_narrower_changes_found_nothing(
    app: VerifyState,
) -> None:
    path = "app/schemas/book.py"
    edit(app, path, "class BookCreate", "class BookCreated")
    finding = Finding(
        check="mypy", kind="attr-defined", message='Module "app.schemas.book" has no '
        'attribute "BookCreate"', file="app/routers/book.py", range=Span.lines(3),
    )  # fmt: skip
    app.report("mypy", [finding])
    first = propose(app)
    # the import block of the router is as generated: nothing narrow to do there, so the
    # module named in the message comes back whole
    assert first.reasons.get("restore-module") == [path] or path in first.changes
