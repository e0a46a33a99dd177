"""The run store's contract, on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from specloom.pipeline.records import (
    PhaseRecord,
    RunRecord,
    TaskRecord,
    ValidationRecord,
)
from specloom.plan.model import AtomicSpec, Plan, ProducedFile, SemanticSignature, Task
from specloom.store import (
    SqlRunStore,
    StoreUnavailable,
    default_store_url,
    normalize_url,
    open_store,
)
from specloom.store.migrate import VERSION_TABLE, head_revision
from specloom.store.tables import Base, TaskRow, WaveRow
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


def make_run(run_id: str = "run1", workspace: str = "/ws", **fields: Any) -> RunRecord:
    return RunRecord(id=run_id, workspace=workspace, spec_path="/ws/shop.spec.md", **fields)


def full_run() -> RunRecord:
    return make_run(
        spec_hash="ab" * 32,
        out_dir="/ws/out",
        status="running",
        created_at=T0,
        started_at=datetime(2025, 3, 1, 14, 0, 1, 5, tzinfo=PLUS_TWO),
        resumed_from="3",
        phases=[
            PhaseRecord(
                number=1,
                key="ingest",
                name="Spec ingestion",
                status="passed",
                started_at=T0,
                finished_at=T0 + timedelta(milliseconds=12),
                duration_ms=12.5,
                message="3 entities",
                detail={"entities": ["Book", "Cart"], "nested": {"n": 1, "ok": True}},
            ),
            PhaseRecord(number=2, key="requirements", name="Requirements", status="running"),
            PhaseRecord(number=7, key="deploy", name="Deployment", status="unavailable"),
        ],
        tasks=[
            TaskRecord(task_id="model:Book", kind="model", level=0, status="passed", attempts=1),
            TaskRecord(
                task_id="endpoint:F8",
                kind="endpoint",
                level=2,
                status="failed",
                attempts=3,
                started_at=T0,
                finished_at=T0 + timedelta(seconds=2),
                duration_ms=2000.25,
                error="SyntaxError: line 3\nmore",
                outputs=["app/api/books.py", "tests/test_books.py"],
            ),
            TaskRecord(task_id="app", kind="app"),
        ],
    )


def make_plan(task_ids: list[str], levels: list[list[str]]) -> Plan:
    level_of = {task_id: n for n, ids in enumerate(levels) for task_id in ids}
    tasks = [
        Task(
            id=task_id,
            kind="model",
            title=f"the {task_id} model",
            subject=task_id,
            signature=SemanticSignature(purpose="model", inputs=["x"], constraints=["a"]),
            signature_hash=hashlib.sha256(task_id.encode()).hexdigest(),
            requirement_ids=["F1"],
            atomic=AtomicSpec(produces=[ProducedFile(path=f"{task_id}.py", symbols=[task_id])]),
            depends_on=task_ids[:index],
            level=level_of.get(task_id),
        )
        for index, task_id in enumerate(task_ids)
    ]
    edges = [(later, earlier) for later in task_ids for earlier in task_ids if earlier < later]
    return Plan(spec_name="shop", spec_hash="cd" * 32, tasks=tasks, edges=edges, levels=levels)


@pytest.fixture
async def peek(store: SqlRunStore) -> AsyncIterator[AsyncEngine]:
    """A second engine on the store's database, to look at its rows directly."""
    engine = create_async_engine(store.url)
    yield engine
    await engine.dispose()


def utc_datetimes(run: RunRecord) -> Iterator[datetime]:
    for record in [run, *run.phases, *run.tasks]:
        for value in record.__dict__.values():
            if isinstance(value, datetime):
                yield value


# --- specs ----------------------------------------------------------------------------


async def test_a_spec_is_stored_once_per_content_hash(store: SqlRunStore) -> None:
    content = b"# Shop\n\xff\x00 not UTF-8\n"
    first = await store.save_spec("/ws/a.spec.md", content)
    again = await store.save_spec("/ws/copy.spec.md", content)
    other = await store.save_spec("/ws/a.spec.md", content + b"!")

    assert first == again == hashlib.sha256(content).hexdigest()
    assert other != first
    assert await store.get_spec(first) == content
    assert await store.get_spec("0" * 64) is None


# --- runs -----------------------------------------------------------------------------


async def test_a_run_round_trips_with_its_phases_and_tasks(store: SqlRunStore) -> None:
    run = full_run()
    await store.create_run(run)

    loaded = await store.get_run(run.id)

    assert loaded == run
    assert [t.task_id for t in loaded.tasks] == ["model:Book", "endpoint:F8", "app"]
    assert all(value.utcoffset() == timedelta(0) for value in utc_datetimes(loaded))
    assert loaded.started_at == datetime(2025, 3, 1, 12, 0, 1, 5, tzinfo=UTC)
    assert await store.get_run("nope") is None


async def test_naive_datetimes_are_taken_as_utc(store: SqlRunStore) -> None:
    await store.create_run(make_run(created_at=datetime(2025, 1, 2, 3, 4, 5)))

    loaded = await store.get_run("run1")

    assert loaded is not None
    assert loaded.created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None


async def test_a_run_id_cannot_be_created_twice(store: SqlRunStore) -> None:
    await store.create_run(make_run())
    with pytest.raises(ValueError, match="run1"):
        await store.create_run(make_run(status="failed"))
    loaded = await store.get_run("run1")
    assert loaded is not None
    assert loaded.status == "pending"


async def test_save_run_writes_the_runs_own_fields(store: SqlRunStore) -> None:
    run = full_run()
    await store.create_run(run)
    run.status = "failed"
    run.finished_at = T0 + timedelta(minutes=5)
    run.error = "task endpoint:F8 failed"
    run.failed_task = "endpoint:F8"
    run.resumed_from = ""

    await store.save_run(run.model_copy(update={"phases": [], "tasks": []}))

    assert await store.get_run(run.id) == run


async def test_save_phase_inserts_then_updates(store: SqlRunStore) -> None:
    run = full_run()
    await store.create_run(run)
    new = PhaseRecord(number=5, key="dag", name="DAG construction", status="running")
    await store.save_phase(run.id, new)
    done = run.phases[1].model_copy(
        update={"status": "passed", "finished_at": T0, "duration_ms": 3.0, "detail": {"n": 2}}
    )
    await store.save_phase(run.id, done)

    loaded = await store.get_run(run.id)

    assert loaded is not None
    assert [p.number for p in loaded.phases] == [1, 2, 5, 7]
    assert loaded.phase(2) == done
    assert loaded.phase(5) == new


async def test_save_task_inserts_then_updates(store: SqlRunStore) -> None:
    run = full_run()
    await store.create_run(run)
    retried = run.tasks[1].model_copy(
        update={"status": "passed", "attempts": 4, "error": "", "outputs": ["a.py"]}
    )
    added = TaskRecord(task_id="tests:F8", kind="tests", level=3, status="running")
    await store.save_task(run.id, retried)
    await store.save_task(run.id, added)

    loaded = await store.get_run(run.id)

    assert loaded is not None
    assert loaded.tasks == [run.tasks[0], retried, run.tasks[2], added]


async def test_rows_of_an_unknown_run_are_refused(store: SqlRunStore) -> None:
    writes = [
        store.save_phase("ghost", PhaseRecord(number=1, key="k", name="n")),
        store.save_task("ghost", TaskRecord(task_id="t")),
        store.save_plan("ghost", make_plan(["a"], [["a"]])),
        store.save_validation("ghost", ValidationRecord(kind="lint", message="m")),
    ]
    for write in writes:
        with pytest.raises(LookupError, match="ghost"):
            await write
    assert await store.get_run("ghost") is None


async def test_list_runs_newest_first_by_workspace_with_a_limit(store: SqlRunStore) -> None:
    for n in range(5):
        workspace = "/a" if n % 2 == 0 else "/b"
        created = T0 + timedelta(minutes=n)
        await store.create_run(make_run(f"r{n}", workspace, created_at=created))

    assert [r.id for r in await store.list_runs()] == ["r4", "r3", "r2", "r1", "r0"]
    assert [r.id for r in await store.list_runs(workspace="/a")] == ["r4", "r2", "r0"]
    assert [r.id for r in await store.list_runs(workspace="/b", limit=1)] == ["r3"]
    assert [r.id for r in await store.list_runs(limit=2)] == ["r4", "r3"]
    assert await store.list_runs(workspace="/elsewhere") == []


async def test_list_runs_gives_each_run_its_phases_and_tasks(store: SqlRunStore) -> None:
    run = full_run()
    await store.create_run(run)
    await store.create_run(make_run("bare", created_at=T0 - timedelta(days=1)))

    listed = await store.list_runs()

    assert listed == [run, make_run("bare", created_at=T0 - timedelta(days=1))]


# --- plans ----------------------------------------------------------------------------


async def test_a_plan_round_trips_and_writes_task_and_wave_rows(
    store: SqlRunStore, peek: AsyncEngine
) -> None:
    await store.create_run(make_run())
    plan = make_plan(["a", "b", "c"], [["a"], ["b", "c"]])

    await store.save_plan("run1", plan)

    assert await store.load_plan("run1") == plan
    assert await store.load_plan("nope") is None
    loaded = await store.get_run("run1")
    assert loaded is not None
    assert [(t.task_id, t.kind, t.level, t.status) for t in loaded.tasks] == [
        ("a", "model", 0, "pending"),
        ("b", "model", 1, "pending"),
        ("c", "model", 1, "pending"),
    ]
    async with peek.connect() as connection:
        waves = (await connection.execute(select(WaveRow.level, WaveRow.task_ids))).all()
        tasks = (await connection.execute(select(TaskRow.task_id))).scalars().all()
    assert sorted(map(tuple, waves)) == [(0, ["a"]), (1, ["b", "c"])]
    assert sorted(tasks) == ["a", "b", "c"]


async def test_a_new_plan_keeps_task_progress_and_replaces_waves(
    store: SqlRunStore, peek: AsyncEngine
) -> None:
    await store.create_run(make_run())
    await store.save_plan("run1", make_plan(["a", "b", "gone"], [["a"], ["b", "gone"]]))
    done = TaskRecord(task_id="a", kind="model", level=0, status="passed", attempts=1)
    await store.save_task("run1", done)

    replanned = make_plan(["a", "b", "new"], [["a", "b"], ["new"]])
    await store.save_plan("run1", replanned)

    assert await store.load_plan("run1") == replanned
    loaded = await store.get_run("run1")
    assert loaded is not None
    assert loaded.task("a") == done
    assert loaded.task("gone") is None
    assert [(t.task_id, t.level) for t in loaded.tasks] == [("a", 0), ("b", 0), ("new", 1)]
    async with peek.connect() as connection:
        waves = (await connection.execute(select(WaveRow.level, WaveRow.task_ids))).all()
    assert sorted(map(tuple, waves)) == [(0, ["a", "b"]), (1, ["new"])]


# --- findings, usage, audit -----------------------------------------------------------


async def test_validation_findings_are_kept_in_order(store: SqlRunStore) -> None:
    await store.create_run(make_run())
    findings = [
        ValidationRecord(kind="test", message="2 acceptance tests fail", requirement_id="F13"),
        ValidationRecord(kind="lint", message="E501", file="app/main.py", severity="warning"),
        ValidationRecord(
            kind="tests:test-failed",
            message="assert 418 == 409",
            file="tests/test_f8_borrow_a_book.py",
            requirement_id="F8",
            range={"start": {"line": 40, "character": 0}, "end": {"line": 80, "character": 0}},
            spec_range={"start": {"line": 60, "character": 2}, "end": {"line": 60, "character": 9}},
        ),
    ]
    for finding in findings:
        await store.save_validation("run1", finding)

    assert await store.list_validations("run1") == findings
    assert await store.list_validations("other") == []


async def test_audit_rows(store: SqlRunStore) -> None:
    await store.create_run(make_run())
    before = datetime.now(UTC)
    await store.audit("run1", "run.started", {"spec": "/ws/shop.spec.md", "path": Path("/x")})
    await store.audit(None, "store.opened", {})
    await store.audit("run1", "run.passed", {"error": ""})

    entries = await store.list_audit("run1")
    assert [(e.run_id, e.action) for e in entries] == [
        ("run1", "run.started"),
        ("run1", "run.passed"),
    ]
    assert entries[0].detail == {"spec": "/ws/shop.spec.md", "path": "/x"}
    assert entries[0].at.tzinfo is not None
    assert entries[0].at >= before - timedelta(seconds=5)
    everything = await store.list_audit()
    assert [e.action for e in everything] == ["run.started", "store.opened", "run.passed"]
    assert everything[1].run_id is None
    assert [e.action for e in await store.list_audit(limit=1)] == ["run.passed"]


# --- schema ---------------------------------------------------------------------------


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
    )
    differences: list[Any] = compare_metadata(context, Base.metadata)
    return differences


async def test_init_is_idempotent_and_the_migration_matches_the_models(store_url: str) -> None:
    first = SqlRunStore(store_url)
    await first.init()
    run = make_run()
    await first.create_run(run)
    await first.init()
    second = SqlRunStore(store_url)
    await second.init()

    assert await first.schema_revision() == head_revision() == "0003"
    assert await second.get_run("run1") == run
    await first.close()
    await second.close()
    engine = create_async_engine(normalize_url(store_url))
    async with engine.connect() as connection:
        assert await connection.run_sync(_schema_differences) == []
    await engine.dispose()


# --- concurrency ----------------------------------------------------------------------


async def test_concurrent_saves_of_different_tasks_all_land(store: SqlRunStore) -> None:
    await store.create_run(make_run())
    tasks = [TaskRecord(task_id=f"t{n:02}", level=n % 5, attempts=n) for n in range(50)]
    phases = [PhaseRecord(number=n, key=f"p{n}", name=f"phase {n}") for n in range(1, 12)]

    await asyncio.gather(
        *(store.save_task("run1", task) for task in tasks),
        *(store.save_phase("run1", phase) for phase in phases),
    )

    loaded = await store.get_run("run1")
    assert loaded is not None
    assert sorted(loaded.tasks, key=lambda t: t.task_id) == tasks
    assert loaded.phases == phases


async def test_two_stores_on_one_database_write_concurrently(store_url: str) -> None:
    """As the language server and the CLI would: separate pools, one database."""
    one, two = SqlRunStore(store_url), SqlRunStore(store_url)
    await asyncio.gather(one.init(), two.init())
    try:
        await one.create_run(make_run())
        await asyncio.gather(
            *(one.save_task("run1", TaskRecord(task_id=f"a{n}")) for n in range(25)),
            *(two.save_task("run1", TaskRecord(task_id=f"b{n}")) for n in range(25)),
            *(two.audit("run1", "tick", {"n": n}) for n in range(10)),
        )
        loaded = await two.get_run("run1")
        assert loaded is not None
        assert len(loaded.tasks) == 50
        assert len(await one.list_audit("run1")) == 10
    finally:
        await one.close()
        await two.close()


# --- unavailable ----------------------------------------------------------------------


def _one_line_naming(error: StoreUnavailable, url_prefix: str) -> str:
    message = str(error)
    assert "\n" not in message
    assert "Traceback" not in message
    assert message.startswith(f"run store unavailable at {url_prefix}")
    return message


async def test_a_refused_postgres_port_is_unavailable_with_the_password_masked() -> None:
    store = SqlRunStore("postgresql://postgres:s3cret-pw@127.0.0.1:1/x")
    with pytest.raises(StoreUnavailable) as caught:
        await store.init()
    message = _one_line_naming(caught.value, "postgresql+asyncpg://postgres:***@127.0.0.1:1/x")
    assert "s3cret" not in message
    assert message.endswith(": connection refused")
    assert caught.value.__cause__ is None


async def test_a_postgres_that_never_answers_times_out_quickly() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        store = SqlRunStore(f"postgres://postgres@127.0.0.1:{port}/x", connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            await store.init()
    assert time.monotonic() - started < 3
    assert _one_line_naming(caught.value, "postgresql+asyncpg://").endswith("timed out")


async def test_a_missing_postgres_database_is_unavailable(postgres_dsn: str) -> None:
    missing = postgres_dsn.rpartition("/")[0] + "/specloom_no_such_database"
    with pytest.raises(StoreUnavailable, match='"specloom_no_such_database" does not exist'):
        await SqlRunStore(missing).init()


async def test_a_database_lost_after_init_is_unavailable_until_it_returns(
    postgres_url: str, postgres_admin: Callable[..., Awaitable[None]]
) -> None:
    name = postgres_url.rpartition("/")[2]
    store = SqlRunStore(postgres_url)
    await store.init()
    run = make_run()
    await store.create_run(run)
    try:
        await postgres_admin(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        with pytest.raises(StoreUnavailable) as caught:
            await store.get_run("run1")
        assert _one_line_naming(caught.value, "postgresql+asyncpg://").endswith(
            "is not currently accepting connections"
        )
    finally:
        await postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert await store.get_run("run1") == make_run(
        created_at=(await store.list_runs())[0].created_at
    )
    await store.close()


async def test_a_sqlite_path_under_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("not a directory")
    url = f"sqlite:///{tmp_path}/plain-file/sub/runs.db"
    with pytest.raises(StoreUnavailable) as caught:
        await SqlRunStore(url).init()
    message = _one_line_naming(caught.value, "sqlite+aiosqlite:///")
    assert message.endswith("plain-file is not a directory")


async def test_a_sqlite_path_in_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        await SqlRunStore(f"sqlite:///{tmp_path}/missing/runs.db").init()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
async def test_a_sqlite_path_in_a_read_only_directory_is_unavailable(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(StoreUnavailable, match="not writable"):
            await SqlRunStore(f"sqlite:///{locked}/runs.db").init()
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://user:pw@host/db", "unsupported database 'mysql'"),
        ("not a url", "Could not parse"),
    ],
)
async def test_an_unusable_url_is_unavailable(url: str, reason: str) -> None:
    with pytest.raises(StoreUnavailable, match=reason):
        await SqlRunStore(url).init()


async def test_a_store_used_before_init_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="init"):
        await SqlRunStore(f"sqlite:///{tmp_path}/runs.db").get_run("x")


# --- urls -----------------------------------------------------------------------------


def test_the_default_store_is_sqlite_under_the_workspace(tmp_path: Path) -> None:
    url = default_store_url(tmp_path)
    assert url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/.specloom/specloom.db"
    assert (tmp_path / ".specloom").is_dir()


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("sqlite:///rel.db", "sqlite+aiosqlite:///rel.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_urls_get_their_async_driver(url: str, normalized: str) -> None:
    assert normalize_url(url) == normalized


async def test_open_store_defaults_to_the_workspace_database(tmp_path: Path) -> None:
    store = await open_store(None, tmp_path)
    try:
        await store.create_run(make_run())
        assert (tmp_path / ".specloom" / "specloom.db").is_file()
        assert await store.get_run("run1") is not None
    finally:
        await store.close()


async def test_open_store_raises_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="connection refused"):
        await open_store("postgresql://postgres@127.0.0.1:1/x", tmp_path)
