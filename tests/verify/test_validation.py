"""Phase 9, validation, on the generated library app: the clean app passes with its
figures, and each injected fault is found in the right file, at the right line, and
mapped to the requirement it breaks.

One app is generated per module; a test that injects a fault works on its own copy.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from specloom.ir.application import ApplicationIR
from specloom.pipeline.cancel import Cancelled, CancelToken
from specloom.pipeline.events import EventBus, PhaseProgressed, RunEvent
from specloom.pipeline.phase import PipelineSettings, RunContext
from specloom.pipeline.records import RunRecord
from specloom.pipeline.staging import Staging
from specloom.spec.compiler import compile_spec
from specloom.store.sql import SqlRunStore
from specloom.store.urls import open_store
from specloom.verify.checks.compliance import check_compliance
from specloom.verify.checks.lint import check_ruff
from specloom.verify.checks.suite import check_tests
from specloom.verify.checks.syntax import check_syntax
from specloom.verify.checks.typecheck import check_mypy
from specloom.verify.state import VerifyState
from specloom.verify.traceindex import TraceIndex
from specloom.verify.validation import Validation

TESTS = Path(__file__).resolve().parents[1]
SPEC = TESTS.parent / "examples" / "library.spec.md"


@pytest.fixture(scope="module")
def ir() -> ApplicationIR:
    return compile_spec(SPEC.read_text(encoding="utf-8")).ir


@pytest.fixture(scope="module")
def library_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library app, generated once (phases 1 to 6 in process)."""
    if str(TESTS / "codegen") not in sys.path:
        sys.path.insert(0, str(TESTS / "codegen"))
    from generated_apps import generate_tree, write_tree

    tree = generate_tree(SPEC.read_text(encoding="utf-8"), SPEC.name)
    return write_tree(tree, tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: the libraries are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture
def app_copy(library_app: Path, tmp_path: Path) -> Path:
    """A copy of the library app this test may break."""
    return Path(shutil.copytree(library_app, tmp_path / "app"))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlRunStore]:
    opened = await open_store(None, tmp_path / "ws")
    yield opened
    await opened.close()


async def context(
    store: SqlRunStore, ir: ApplicationIR, app_dir: Path, tmp_path: Path
) -> RunContext:
    """A run's context as phase 7 leaves it: the app, its interpreter and database."""
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    run = RunRecord(id="run-1", workspace=str(workspace), spec_path=str(SPEC))
    await store.create_run(run)
    ctx = RunContext(
        run=run,
        spec_path=SPEC,
        spec_bytes=SPEC.read_bytes(),
        workspace=workspace,
        out_dir=tmp_path / "out",
        staging=Staging(workspace / ".specloom" / "runs" / run.id, tmp_path / "out"),
        cancel=CancelToken(),
        store=store,
        settings=PipelineSettings(),
        bus=EventBus(),
        percent=lambda number, fraction: 0.0,
        ir=ir,
    )
    ctx.verify = VerifyState(
        app_dir=app_dir,
        python=sys.executable,
        database_url="sqlite:///" + str(tmp_path / "app.db"),
    )
    return ctx


def phase(mypy_cache: Path) -> Validation:
    return Validation(mypy_cache=lambda ctx: mypy_cache)


def edit(path: Path, change: Callable[[list[str]], int]) -> int:
    """Apply `change` to the file's lines; it returns the 0-based line it broke."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = change(lines)
    path.write_text("".join(lines), encoding="utf-8")
    return line


def index_of(lines: list[str], text: str, start: int = 0) -> int:
    return next(i for i in range(start, len(lines)) if text in lines[i])


def insert_in_body(function: str, statement: str) -> Callable[[list[str]], int]:
    """Insert `statement` as the first statement of `function` (after its docstring)."""

    def change(lines: list[str]) -> int:
        start = index_of(lines, f"def {function}(")
        opening = index_of(lines, '"""', start)
        closing = (
            index_of(lines, '"""', opening + 1) if lines[opening].count('"""') == 1 else opening
        )
        lines.insert(closing + 1, f"    {statement}\n")
        return closing + 1

    return change


# --- the clean app ---------------------------------------------------------------------


async def test_the_clean_library_app_passes_with_its_figures(
    store: SqlRunStore, ir: ApplicationIR, library_app: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    ctx = await context(store, ir, library_app, tmp_path)
    events: list[RunEvent] = []
    ctx.bus.subscribe(events.append)
    outcome = await phase(mypy_cache).run(ctx)

    assert outcome.status == "passed", outcome.message
    checks = outcome.detail["checks"]
    assert set(checks) == {"syntax", "ruff", "mypy", "tests", "compliance"}
    assert checks["tests"]["tests"] == 75
    assert checks["tests"]["passed"] == 75
    assert checks["tests"]["failed"] == checks["tests"]["errors"] == 0
    assert checks["compliance"]["percent"] == 100.0
    assert checks["compliance"]["endpoints"] == {"checked": 10, "present": 10, "percent": 100.0}
    assert checks["compliance"]["requirements"]["checked"] == len(ir.validation.requirements)
    assert checks["syntax"]["files"] == 40
    assert checks["mypy"]["ran"] is True
    assert "75 tests passed" in outcome.message
    assert outcome.message.endswith("compliance 100%")
    assert outcome.detail["findings"] == []
    assert ctx.verify is not None
    assert ctx.verify.clean
    assert ctx.verify.summary["tests"]["passed"] == 75
    assert await store.list_validations("run-1") == []
    progress = [e for e in events if isinstance(e, PhaseProgressed)]
    assert [(e.phase, e.done, e.total) for e in progress] == [(9, n, 5) for n in range(1, 6)]
    # nothing was written into the app (no caches, no database, no bytecode)
    assert not list(library_app.rglob("__pycache__"))
    assert not list(library_app.glob(".*cache*"))
    assert not list(library_app.glob("*.db"))


async def test_without_an_app_the_phase_fails_and_says_why(
    store: SqlRunStore, ir: ApplicationIR, library_app: Path, tmp_path: Path
) -> None:
    ctx = await context(store, ir, library_app, tmp_path)
    ctx.verify = None
    outcome = await Validation().run(ctx)
    assert outcome.status == "failed"
    assert outcome.message == "no app to validate: phase 7 did not run"


# --- injected faults -------------------------------------------------------------------


async def test_a_syntax_error_is_found_at_its_line_with_its_requirement(app_copy: Path) -> None:
    router = app_copy / "app" / "routers" / "book.py"

    def unclose(lines: list[str]) -> int:
        line = index_of(lines, "record = Book(**data.model_dump())")
        lines[line] = lines[line].replace("model_dump())", "model_dump()")
        return line

    line = edit(router, unclose)
    result = await check_syntax(app_copy, sys.executable)

    assert [f.kind for f in result.findings] == ["syntax-error"]
    finding = result.findings[0]
    assert finding.file == "app/routers/book.py"
    assert finding.range is not None
    assert finding.range.start.line == line
    assert finding.requirement_id == "F1"  # the handler of POST /books
    assert finding.spec_range == TraceIndex.load(app_copy).spec_span("F1")
    assert result.figures["files"] == 40
    assert result.figures["errors"] == 1


async def test_an_unused_import_is_a_ruff_f401_in_its_flow(app_copy: Path) -> None:
    service = app_copy / "app" / "services" / "f8_borrow_a_book.py"
    line = edit(service, insert_in_body("borrow_a_book", "import os"))

    result = await check_ruff(app_copy)

    assert [f.kind for f in result.findings] == ["F401"]
    finding = result.findings[0]
    assert finding.file == "app/services/f8_borrow_a_book.py"
    assert finding.range is not None
    assert finding.range.start.line == line
    assert finding.range.start.character == len("    import ")
    assert finding.requirement_id == "F8"
    assert "os" in finding.message
    assert result.figures["diagnostics"] == 1


async def test_a_type_error_is_found_by_mypy_in_its_flow(app_copy: Path, mypy_cache: Path) -> None:
    service = app_copy / "app" / "services" / "f8_borrow_a_book.py"
    line = edit(service, insert_in_body("borrow_a_book", 'copies: int = "three"'))

    result = await check_mypy(app_copy, sys.executable, cache_dir=mypy_cache)

    assert [f.kind for f in result.findings] == ["assignment"]
    finding = result.findings[0]
    assert finding.file == "app/services/f8_borrow_a_book.py"
    assert finding.range is not None
    assert finding.range.start.line == line
    assert finding.requirement_id == "F8"
    assert result.figures == {**result.figures, "ran": True, "errors": 1}


async def test_a_changed_guard_status_fails_the_flow_test_of_that_guard(
    app_copy: Path, tmp_path: Path
) -> None:
    service = app_copy / "app" / "services" / "f8_borrow_a_book.py"
    text = service.read_text(encoding="utf-8")
    assert 'AppError(403, "member is suspended")' in text
    service.write_text(text.replace("AppError(403,", "AppError(400,"), encoding="utf-8")

    result = await check_tests(
        app_copy,
        sys.executable,
        "sqlite:///" + str(tmp_path / "tests.db"),
        paths=["tests/test_f8_borrow_a_book.py"],
    )

    assert result.figures["failed"] == 1
    assert result.figures["passed"] == result.figures["tests"] - 1
    [finding] = result.findings
    assert finding.kind == "test-failed"
    assert finding.file == "tests/test_f8_borrow_a_book.py"
    assert finding.requirement_id == "F8"
    test = str(finding.detail["test"])
    assert "suspended" in test
    [place] = TraceIndex.load(app_copy).symbol(finding.file, test)
    assert finding.range == place.span  # the whole test function
    assert "403" in str(finding.detail["output"])
    assert finding.spec_range == TraceIndex.load(app_copy).spec_span("F8")


async def test_a_removed_endpoint_fails_the_phase_with_compliance_and_tests(
    store: SqlRunStore, ir: ApplicationIR, app_copy: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    router = app_copy / "app" / "routers" / "member.py"

    def remove_f6(lines: list[str]) -> int:
        start = index_of(lines, '@router.get("/members/{id}"')
        end = index_of(lines, "@router.", start + 1)
        del lines[start:end]
        return start

    edit(router, remove_f6)
    # the suite keeps only the member tests, to keep this test short
    for module in (app_copy / "tests").glob("test_*.py"):
        if module.name != "test_member.py":
            module.unlink()
    ctx = await context(store, ir, app_copy, tmp_path)
    outcome = await phase(mypy_cache).run(ctx)

    assert outcome.status == "failed"
    checks = outcome.detail["checks"]
    percent = checks["compliance"]["percent"]
    assert percent < 100
    assert checks["compliance"]["endpoints"]["present"] == 9
    assert checks["tests"]["failed"] >= 1
    assert "1 missing endpoint" in outcome.message
    assert f"{checks['tests']['failed']} failing test" in outcome.message
    assert outcome.message.endswith(f"compliance {percent:g}%")

    records = await store.list_validations("run-1")
    missing = [r for r in records if r.kind == "compliance:missing-endpoint"]
    assert [(r.file, r.requirement_id) for r in missing] == [("app/routers/member.py", "F6")]
    failing = [r for r in records if r.kind == "tests:test-failed"]
    assert failing
    assert {r.file for r in failing} == {"tests/test_member.py"}
    assert {r.requirement_id for r in failing} == {"F6"}
    assert ctx.verify is not None
    assert len(ctx.verify.blocking()) == len(records)


async def test_compliance_finds_a_missing_field_and_an_untraced_requirement(
    app_copy: Path, ir: ApplicationIR
) -> None:
    schemas = app_copy / "app" / "schemas" / "member.py"

    def drop_full_name(lines: list[str]) -> int:
        line = index_of(lines, "full_name: str", index_of(lines, "class MemberCreate"))
        del lines[line]
        return line

    edit(schemas, drop_full_name)
    trace_file = app_copy / "specloom-trace.json"
    trace = json.loads(trace_file.read_text(encoding="utf-8"))
    trace["requirements"]["R1"]["code"] = []  # R1's check is traced nowhere
    trace_file.write_text(json.dumps(trace), encoding="utf-8")

    result = await check_compliance(app_copy, sys.executable, ir)

    kinds = {(f.kind, f.requirement_id) for f in result.findings}
    assert ("missing-field", "F5") in kinds
    assert ("untraced-requirement", "R1") in kinds
    [field] = [f for f in result.findings if f.kind == "missing-field"]
    assert field.detail["field"] == "full_name"
    assert field.spec_range == TraceIndex.load(app_copy).spec_span("F5")
    assert result.figures["percent"] < 100


# --- checks that cannot run ------------------------------------------------------------


def fake_python(tmp_path: Path, stderr: str, status: int = 1) -> str:
    """An interpreter that fails at once, as one without a module does."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho '{stderr}' >&2\nexit {status}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


async def test_without_mypy_the_type_check_warns_that_it_did_not_run(
    library_app: Path, tmp_path: Path
) -> None:
    python = fake_python(tmp_path, "/usr/bin/python3: No module named mypy")
    result = await check_mypy(library_app, python)
    [finding] = result.findings
    assert finding.kind == "not-run"
    assert finding.severity == "warning"
    assert "did not run" in finding.message
    assert result.figures["ran"] is False


async def test_a_suite_that_cannot_run_is_a_finding(library_app: Path, tmp_path: Path) -> None:
    python = fake_python(tmp_path, "/usr/bin/python3: No module named pytest")
    result = await check_tests(library_app, python, "sqlite://")
    [finding] = result.findings
    assert finding.kind == "suite-not-run"
    assert finding.blocking
    assert "No module named pytest" in finding.message


async def test_cancelling_the_run_stops_the_suite(library_app: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(library_app, app)
    # a test that would hold the suite for a minute: the cancellation must cut it short
    (app / "tests" / "test_slow.py").write_text(
        "import time\n\n\ndef test_slow() -> None:\n    time.sleep(60)\n", encoding="utf-8"
    )
    cancel = CancelToken()
    running = asyncio.ensure_future(
        check_tests(app, sys.executable, "sqlite:///" + str(tmp_path / "t.db"), cancel=cancel)
    )
    await asyncio.sleep(1.0)
    began = time.perf_counter()
    cancel.cancel("stop")
    with pytest.raises(Cancelled):
        await running
    assert time.perf_counter() - began < 8
