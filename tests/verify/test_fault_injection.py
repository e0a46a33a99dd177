"""Faults placed in a generated app, found by validation or health, named by requirement,
and repaired when a deterministic strategy reaches them; what none reaches is reported.

One app carries eight faults at once (they are independent; the loop finds some only
after repairing others): a syntax error, a guard answering the wrong status, a missing
endpoint, a removed import, a deleted file, a wrong default, an edited test, and a module
of the user's own with a syntax error. A second app hangs on start.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from specloom.pipeline.orchestrator import Orchestrator
from specloom.pipeline.phase import Phase, PhaseOutcome, PipelineSettings, RunContext
from specloom.pipeline.phases import default_phases
from specloom.pipeline.records import RunRecord, ValidationRecord
from specloom.store.sql import SqlRunStore
from specloom.store.urls import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "codegen"))
from generated_apps import EXAMPLES, generate_tree, write_tree

Tree = dict[str, str]
SPEC = EXAMPLES / "library.spec.md"


@dataclass(frozen=True)
class Fault:
    name: str
    path: str
    old: str
    new: str
    requirement: str  # what a finding must name (a prefix of its requirement ID)
    repaired: bool = True

    def place(self, app: Path) -> None:
        target = app / self.path
        if self.old == "<delete>":
            target.unlink()
            return
        text = target.read_text(encoding="utf-8") if target.exists() else ""
        assert self.old in text, f"{self.name}: {self.old!r} is not in {self.path}"
        target.write_text(text.replace(self.old, self.new, 1), encoding="utf-8")


FAULTS = [
    Fault(
        "syntax error", "app/routers/loan.py",
        "    return return_a_book(session, record_id)",
        "    return return_a_book(session, record_id",
        "F9",
    ),
    Fault(
        "wrong status in a guard", "app/services/f8_borrow_a_book.py",
        'AppError(409, "no copy available")', 'AppError(418, "no copy available")', "F8",
    ),
    Fault(
        "missing endpoint", "app/routers/book.py",
        '@router.get("/books/{id}"', '# @router.get("/books/{id}"', "F3",
    ),
    Fault(
        "removed import", "app/routers/book.py", "from app.rules import commit\n", "", "F1",
    ),
    Fault("deleted file", "app/services/f7_suspend_a_member.py", "<delete>", "", "F7"),
    Fault(
        "wrong default", "app/models/member.py",
        'default="ACTIVE"', 'default="SUSPENDED"', "Member.status",
    ),
    Fault(
        "edited test", "tests/test_book.py",
        "assert response.status_code == 201", "assert response.status_code == 202", "F1",
    ),
    Fault(
        "the user's own module", "app/mine.py", "", "def broken(:\n", "", repaired=False,
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def library() -> Tree:
    return generate_tree(SPEC.read_text(encoding="utf-8"))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlRunStore]:
    opened = await open_store(None, tmp_path / "ws")
    yield opened
    await opened.close()


async def validate(
    store: SqlRunStore, app: Path, tmp_path: Path, settings: PipelineSettings
) -> tuple[RunRecord, list[ValidationRecord]]:
    settings.verify.trusted = True
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    orchestrator = Orchestrator(store, settings=settings)
    run = await orchestrator.run(SPEC, app, workspace, mode="validate")
    return run, await store.list_validations(run.id)


async def test_eight_faults_are_found_named_and_repaired_where_in_reach(
    library: Tree, store: SqlRunStore, tmp_path: Path
) -> None:
    app = write_tree(library, tmp_path / "app")
    for fault in FAULTS:
        fault.place(app)
    settings = PipelineSettings()
    settings.verify.repair_attempts = 4
    run, findings = await validate(store, app, tmp_path, settings)

    for fault in FAULTS:
        about = [f for f in findings if f.file == fault.path or (
            fault.requirement and f.requirement_id.startswith(fault.requirement)
        )]  # fmt: skip
        assert about, f"{fault.name}: no finding names {fault.path} or {fault.requirement}"
        if fault.path != "app/mine.py" and fault.old != "<delete>":
            text = (app / fault.path).read_text(encoding="utf-8")
            assert text == library[fault.path], f"{fault.name}: not repaired"
    assert (app / "app/services/f7_suspend_a_member.py").read_text(encoding="utf-8") == (
        library["app/services/f7_suspend_a_member.py"]
    )
    # the user's module is out of reach: untouched, reported, and it fails the run
    assert (app / "app/mine.py").read_text(encoding="utf-8") == "def broken(:\n"
    assert run.status == "failed"
    assert "app/mine.py" in run.error or "syntax" in run.error
    repair = run.phase(8)
    assert repair is not None
    attempts = repair.detail["attempts"]
    assert 1 <= len(attempts) <= 4
    assert all(a["effect"].startswith(("improved", "no improvement")) for a in attempts)
    validation = run.phase(9)
    assert validation is not None
    # in the last pass only the user's module is left
    last = [f for f in findings if f.kind.startswith("syntax")][-1]
    assert last.file == "app/mine.py"


class NotUnderTest(Phase):
    """Validation left out of the hang test: the app hangs on import, so the suite would
    only hang too, until its time limit (tested in test_validation); health is the check
    under test here."""

    number, key, name = 9, "validation", "validation (not under test)"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        return PhaseOutcome("passed", "not under test")


async def test_an_app_that_hangs_on_start_is_stopped_found_and_repaired(
    library: Tree, store: SqlRunStore, tmp_path: Path
) -> None:
    app = write_tree(library, tmp_path / "app")
    Fault(
        "hang", "app/main.py", "from __future__ import annotations\n",
        "from __future__ import annotations\n\nimport time\n\ntime.sleep(600)\n", "",
    ).place(app)  # fmt: skip
    settings = PipelineSettings()
    settings.verify.trusted = True
    settings.verify.startup_seconds = 5.0
    phases = default_phases()
    phases[8] = NotUnderTest()
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    run = await Orchestrator(store, phases, settings).run(SPEC, app, workspace, mode="validate")
    findings = await store.list_validations(run.id)
    hangs = [f for f in findings if f.kind == "health:hang"]
    assert hangs
    assert hangs[0].file == "app/main.py"
    assert (app / "app/main.py").read_text(encoding="utf-8") == library["app/main.py"]
    assert run.status == "passed", run.error  # repaired and clean
    health = run.phase(10)
    assert health is not None
    assert health.status == "passed"
