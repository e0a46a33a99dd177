"""Phase 10, health verification, on the generated library app: a clean app answers
every endpoint; an app that hangs, an endpoint that raises and an app that cannot be
imported are findings located in the code and the spec; the app is always stopped and
its port freed, cancelled or not."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from specloom.pipeline.cancel import Cancelled
from specloom.pipeline.events import PhaseProgressed, RunEvent
from specloom.pipeline.phase import PhaseOutcome, RunContext
from specloom.verify import sandbox
from specloom.verify.deploy import Deployment, database_name
from specloom.verify.health import HealthCheck
from specloom.verify.requests import from_pattern, route_key
from specloom.verify.settings import VerifySettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "codegen"))
from generated_apps import ADMIN_DSN, EXAMPLES, generate_tree, write_tree
from test_deploy import pg_databases, postgres_reachable, run_context

Tree = dict[str, str]
FAST = VerifySettings(trusted=True, startup_seconds=15.0, request_seconds=10.0)


@pytest.fixture(scope="module")
def library_tree() -> Tree:
    return generate_tree((EXAMPLES / "library.spec.md").read_text(encoding="utf-8"))


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (pid, port) of every app the health check starts."""
    seen: list[tuple[int, int]] = []
    start = sandbox.start

    async def recording(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        process = await start(argv, *args, **kwargs)
        seen.append((process.pid, int(argv[argv.index("--port") + 1])))
        return process

    monkeypatch.setattr(sandbox, "start", recording)
    return seen


def assert_stopped(pid: int, port: int) -> None:
    """The process and its group are gone, and a server could listen on the port again."""
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


def edit(app: Path, path: str, old: str, new: str) -> None:
    target = app / path
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")


@asynccontextmanager
async def deployed(
    tmp_path: Path, app: Path, settings: VerifySettings = FAST
) -> AsyncIterator[RunContext]:
    async with run_context(tmp_path, app, settings) as ctx:
        outcome = await Deployment().run(ctx)
        assert outcome.status == "passed", outcome.message
        yield ctx


async def check(ctx: RunContext) -> tuple[PhaseOutcome, float]:
    began = time.perf_counter()
    outcome = await HealthCheck().run(ctx)
    return outcome, time.perf_counter() - began


async def test_the_clean_library_app_answers_every_endpoint(
    tmp_path: Path, library_tree: Tree, started: list[tuple[int, int]]
) -> None:
    app = write_tree(library_tree, tmp_path / "app")
    async with deployed(tmp_path, app) as ctx:
        progress: list[PhaseProgressed] = []
        ctx.bus.subscribe(lambda e: progress.append(e) if isinstance(e, PhaseProgressed) else None)
        outcome, seconds = await check(ctx)
        assert outcome.status == "passed", outcome.message
        assert ctx.verify is not None
        # the 10 endpoints of the spec and /health, every one below 500
        assert ctx.verify.findings["health"] == []
        figures = ctx.verify.summary["health"]
        assert figures["endpoints"] == 11
        assert figures["answered"] == 11
        assert outcome.detail["findings"] == []
        assert "11 of 11 endpoints answered" in outcome.message
        assert await ctx.store.list_validations(ctx.run.id) == []
        assert [e.done for e in progress] == list(range(12))
        assert all(e.phase == 10 and e.total == 11 for e in progress)
    assert seconds < 30
    [(pid, port)] = started
    assert_stopped(pid, port)


async def test_an_endpoint_that_raises_is_a_5xx_finding_at_its_router_and_requirement(
    tmp_path: Path, library_tree: Tree, started: list[tuple[int, int]]
) -> None:
    app = write_tree(library_tree, tmp_path / "app")
    edit(
        app,
        "app/routers/book.py",
        "    return BookRepository(session).get(record_id)",
        '    raise RuntimeError("boom")',
    )
    async with deployed(tmp_path, app) as ctx:
        outcome, _ = await check(ctx)
        assert outcome.status == "failed"
        assert ctx.verify is not None
        [finding] = ctx.verify.findings["health"]
        assert finding.check == "health"
        assert finding.kind == "status-5xx"
        assert finding.requirement_id == "F3"
        assert finding.file == "app/routers/book.py"
        assert finding.range is not None
        lines = (app / finding.file).read_text(encoding="utf-8").splitlines()
        handler = lines[finding.range.start.line : finding.range.end.line]
        assert any("def f3_get_a_book" in line for line in handler)
        assert finding.spec_range is not None  # F3's line in the spec
        assert "GET /books/{id}" in finding.message
        assert "500" in finding.message
        assert finding.detail["status"] == 500
        assert ctx.verify.summary["health"]["answered"] == 10
        assert "GET /books/{id}" in outcome.message
        [record] = await ctx.store.list_validations(ctx.run.id)
        assert record.kind == "health:status-5xx"
        assert record.requirement_id == "F3"
        assert record.file == "app/routers/book.py"
    [(pid, port)] = started
    assert_stopped(pid, port)


async def test_an_app_whose_startup_hangs_is_a_hang_finding_and_is_killed(
    tmp_path: Path, library_tree: Tree, started: list[tuple[int, int]]
) -> None:
    app = write_tree(library_tree, tmp_path / "app")
    edit(
        app,
        "app/main.py",
        "from __future__ import annotations\n",
        "import time\n\ntime.sleep(600)\n",
    )
    settings = VerifySettings(trusted=True, startup_seconds=3.0)
    async with deployed(tmp_path, app, settings) as ctx:
        outcome, seconds = await check(ctx)
        assert outcome.status == "failed"
        assert ctx.verify is not None
        [finding] = ctx.verify.findings["health"]
        assert finding.kind == "hang"
        assert "within 3 s" in finding.message
        # where it hangs, from the stack the app dumped before it was killed
        assert finding.file == "app/main.py"
        assert finding.range is not None
        lines = (app / "app/main.py").read_text(encoding="utf-8").splitlines()
        assert lines[finding.range.start.line] == "time.sleep(600)"
    assert 3.0 <= seconds < 3.0 + 10.0
    [(pid, port)] = started
    assert_stopped(pid, port)


async def test_an_app_that_cannot_be_imported_is_an_exited_finding_at_the_error(
    tmp_path: Path, library_tree: Tree, started: list[tuple[int, int]]
) -> None:
    app = write_tree(library_tree, tmp_path / "app")
    edit(app, "app/routers/loan.py", "router = APIRouter(", "router = = APIRouter(")
    async with deployed(tmp_path, app) as ctx:
        outcome, seconds = await check(ctx)
        assert outcome.status == "failed"
        assert ctx.verify is not None
        [finding] = ctx.verify.findings["health"]
        assert finding.kind == "exited"
        assert "SyntaxError" in finding.message
        assert finding.file == "app/routers/loan.py"
        assert finding.range is not None
        line = (
            (app / finding.file).read_text(encoding="utf-8").splitlines()[finding.range.start.line]
        )
        assert "router = = APIRouter(" in line
        assert "SyntaxError" in str(finding.detail["stderr"])
        [record] = await ctx.store.list_validations(ctx.run.id)
        assert record.kind == "health:exited"
    assert seconds < 15
    [(pid, port)] = started
    assert_stopped(pid, port)


async def test_a_cancelled_check_stops_the_app_and_raises(
    tmp_path: Path, library_tree: Tree, started: list[tuple[int, int]]
) -> None:
    app = write_tree(library_tree, tmp_path / "app")
    async with deployed(tmp_path, app) as ctx:

        def cancel_after_two(event: RunEvent) -> None:
            if isinstance(event, PhaseProgressed) and event.done == 2:
                ctx.cancel.cancel()

        ctx.bus.subscribe(cancel_after_two)
        with pytest.raises(Cancelled):
            await HealthCheck().run(ctx)
    [(pid, port)] = started
    assert_stopped(pid, port)


async def test_without_deployment_there_is_nothing_to_check(tmp_path: Path) -> None:
    async with run_context(tmp_path, tmp_path, FAST) as ctx:
        outcome = await HealthCheck().run(ctx)
    assert outcome.status == "failed"
    assert outcome.message == "no app to check: phase 7 did not run"


def test_patterns_of_the_examples_give_matching_values() -> None:
    for pattern in (
        "^97[89][0-9]{10}$",
        "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
        "^T-[0-9]{4}$",
        "^[A-Z0-9-]{4,20}$",
        r"^\d{3}(-\d{2})?$",
        "^(ab|cd)+x?$",
    ):
        made = from_pattern(pattern, 7)
        assert made is not None, pattern
    assert from_pattern("^(?=a)b$") is None  # lookahead: not simple, no value
    assert route_key("get", "/books/{book_id}/") == route_key("GET", "/books/{id}")


async def test_on_postgresql_the_clean_app_answers_every_endpoint(
    tmp_path: Path, library_tree: Tree, started: list[tuple[int, int]]
) -> None:
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_DSN}")
    app = write_tree(library_tree, tmp_path / "app")
    settings = VerifySettings(trusted=True, database_url=ADMIN_DSN, startup_seconds=15.0)
    async with deployed(tmp_path, app, settings) as ctx:
        assert ctx.verify is not None
        assert ctx.verify.database_url.startswith("postgresql://")
        outcome, _ = await check(ctx)
        assert outcome.status == "passed", outcome.message
        assert ctx.verify.summary["health"]["answered"] == 11
        for cleanup in ctx.verify.cleanups:
            await cleanup()
    assert database_name("run0001") not in pg_databases()
    [(pid, port)] = started
    assert_stopped(pid, port)
