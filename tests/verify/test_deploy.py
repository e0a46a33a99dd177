"""Phase 7, deployment, as a run sees it: the interpreter and the database it gives the
generated app, a workspace that is not trusted, a cached environment, and a database
server that cannot be reached."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from specloom.pipeline.cancel import CancelToken
from specloom.pipeline.events import EventBus
from specloom.pipeline.phase import PipelineSettings, RunContext
from specloom.pipeline.records import RunRecord
from specloom.pipeline.staging import Staging
from specloom.verify.deploy import (
    READY,
    Deployment,
    database_name,
    requirements_key,
    unsatisfied,
)
from specloom.verify.sandbox import Completed, Limits
from specloom.verify.settings import VerifySettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "codegen"))
from generated_apps import ADMIN_DSN, EXAMPLES, generate_tree, write_tree

Tree = dict[str, str]


@asynccontextmanager
async def run_context(
    tmp_path: Path,
    app_dir: Path | None,
    verify: VerifySettings,
    run_id: str = "run0001",
    generated: Tree | None = None,
) -> AsyncIterator[RunContext]:
    """A run's context as the orchestrator makes it, with the app of phase 6 in place."""
    from specloom.spec.compiler import compile_spec
    from specloom.store.urls import open_store

    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    store = await open_store(None, workspace)
    spec = EXAMPLES / "library.spec.md"
    run = RunRecord(id=run_id, workspace=str(workspace), spec_path=str(spec))
    await store.create_run(run)
    run_dir = workspace / ".specloom" / "runs" / run_id
    try:
        yield RunContext(
            run=run,
            spec_path=spec,
            spec_bytes=spec.read_bytes(),
            workspace=workspace,
            out_dir=tmp_path / "out",
            staging=Staging(run_dir, tmp_path / "out"),
            cancel=CancelToken(),
            store=store,
            settings=PipelineSettings(verify=verify),
            bus=EventBus(),
            percent=lambda number, fraction: 0.0,
            ir=compile_spec(spec.read_text(encoding="utf-8")).ir,
            app_dir=app_dir,
            generated=generated or {},
        )
    finally:
        await store.close()


@pytest.fixture(scope="module")
def library_tree() -> Tree:
    return generate_tree((EXAMPLES / "library.spec.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def library(library_tree: Tree, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(library_tree, tmp_path_factory.mktemp("library"))


def pg_databases() -> set[str]:
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3) as connection:
        rows = connection.execute("SELECT datname FROM pg_database").fetchall()
    return {row[0] for row in rows}


def postgres_reachable() -> bool:
    try:
        pg_databases()
    except psycopg.OperationalError:
        return False
    return True


async def test_deployment_uses_this_interpreter_and_a_sqlite_file_of_the_run(
    tmp_path: Path, library: Path, library_tree: Tree
) -> None:
    trusted = VerifySettings(trusted=True)
    async with run_context(tmp_path, library, trusted, generated=library_tree) as ctx:
        outcome = await Deployment().run(ctx)
        assert outcome.status == "passed", outcome.message
        assert ctx.verify is not None
        assert ctx.verify.python == sys.executable
        assert ctx.verify.app_dir == library.resolve()
        assert ctx.verify.reference == library_tree
        run_dir = (ctx.workspace / ".specloom" / "runs" / "run0001").resolve()
        assert ctx.verify.database_url == f"sqlite:///{run_dir / 'app.db'}"
        assert outcome.detail["environment"] == "current"
        assert outcome.detail["python"] == sys.executable
        assert outcome.detail["database"] == ctx.verify.database_url
        assert outcome.detail["seconds"] >= 0
        assert ctx.verify.cleanups == []
        assert "current interpreter" in outcome.message


async def test_an_untrusted_workspace_runs_nothing(tmp_path: Path, library: Path) -> None:
    async def refuse(*args: object, **kwargs: object) -> Completed:
        raise AssertionError("nothing may run in an untrusted workspace")

    async with run_context(tmp_path, library, VerifySettings(trusted=False)) as ctx:
        outcome = await Deployment(runner=refuse).run(ctx)
    assert outcome.status == "skipped"
    assert "not trusted" in outcome.message
    assert "--trust" in outcome.message
    assert ctx.verify is None


async def test_without_an_app_directory_deployment_fails_and_says_why(tmp_path: Path) -> None:
    async with run_context(tmp_path, None, VerifySettings(trusted=True)) as ctx:
        outcome = await Deployment().run(ctx)
    assert outcome.status == "failed"
    assert "no app" in outcome.message
    assert ctx.verify is None


def test_this_interpreter_meets_the_generated_requirements_but_not_others(
    library: Path,
) -> None:
    lines = (library / "requirements.txt").read_text(encoding="utf-8").split()
    assert unsatisfied(lines) == []
    assert unsatisfied(["fastapi<0.1", "no-such-package-specloom>=1", "pydantic"]) == [
        "fastapi<0.1",
        "no-such-package-specloom>=1",
    ]
    # an extra needs its packages too (psycopg's "test" wants pproxy, absent here), except
    # the optional speed-ups of uvicorn[standard]; a marker that excludes us is met
    assert unsatisfied(["psycopg[test]", "uvicorn[standard]", 'pytest; python_version < "3"']) == [
        "psycopg[test]"
    ]


def app_needing_more(library_tree: Tree, root: Path) -> Path:
    """The library app with one more requirement this interpreter does not have."""
    app = write_tree(library_tree, root)
    requirements = app / "requirements.txt"
    requirements.write_text(
        requirements.read_text(encoding="utf-8") + "specloom-absent-package>=1\n",
        encoding="utf-8",
    )
    return app


def key_of(app: Path) -> str:
    lines = [
        line.strip()
        for line in (app / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    python = "python " + ".".join(map(str, sys.version_info[:3]))
    expected = hashlib.sha256("\n".join([python, *sorted(lines)]).encode()).hexdigest()
    assert requirements_key(lines) == expected
    assert requirements_key(lines) != hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return expected


async def test_a_finished_cached_environment_is_reused_without_running_anything(
    tmp_path: Path, library_tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_needing_more(library_tree, tmp_path / "app")
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    env_dir = cache / "specloom" / "envs" / key_of(app)
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "python").symlink_to(sys.executable)
    (env_dir / READY).write_text("done\n", encoding="utf-8")

    async def refuse(*args: object, **kwargs: object) -> Completed:
        raise AssertionError("a cached environment is not made again")

    async with run_context(tmp_path, app, VerifySettings(trusted=True)) as ctx:
        outcome = await Deployment(runner=refuse).run(ctx)
        assert outcome.status == "passed", outcome.message
        assert ctx.verify is not None
        assert ctx.verify.python == str(env_dir / "bin" / "python")
        assert outcome.detail["environment"] == "cached"


async def test_a_missing_environment_is_made_with_venv_and_pip_in_the_sandbox(
    tmp_path: Path, library_tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_needing_more(library_tree, tmp_path / "app")
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("SPECLOOM_SECRET_TOKEN", "hunter2")
    issued: list[tuple[list[str], Mapping[str, str] | None]] = []

    async def runner(
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        cancel: CancelToken | None = None,
    ) -> Completed:
        issued.append((list(argv), env))
        if argv[1:3] == ["-m", "venv"]:  # an environment that does nothing
            (Path(argv[3]) / "bin").mkdir(parents=True)
            (Path(argv[3]) / "bin" / "python").symlink_to(sys.executable)
            return Completed(list(argv), 0, "", "", 0.1)
        return Completed(list(argv), 1, "", "ERROR: no network here", 0.1)

    async with run_context(tmp_path, app, VerifySettings(trusted=True)) as ctx:
        outcome = await Deployment(runner=runner).run(ctx)
    assert outcome.status == "failed"
    assert "pip install" in outcome.message
    assert "no network here" in outcome.message
    assert ctx.verify is None
    (venv, _), (pip, pip_env) = issued
    assert venv[:3] == [sys.executable, "-m", "venv"]
    assert pip[1:4] == ["-m", "pip", "install"]
    assert pip[-2:] == ["-r", str((app / "requirements.txt").resolve())]
    assert "SPECLOOM_SECRET_TOKEN" not in (pip_env or {})
    # nothing half-made is left under the cache's final name
    envs = cache / "specloom" / "envs"
    assert not (envs / key_of(app)).exists()
    assert list(envs.iterdir()) == []


async def test_on_postgresql_the_run_gets_a_database_of_its_own_dropped_at_the_end(
    tmp_path: Path, library: Path
) -> None:
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_DSN}")
    run_id = "Run-PG.01"
    name = database_name(run_id)
    assert name == "specloom_run_pg_01"
    settings = VerifySettings(trusted=True, database_url=ADMIN_DSN)
    async with run_context(tmp_path, library, settings, run_id=run_id) as ctx:
        outcome = await Deployment().run(ctx)
        assert outcome.status == "passed", outcome.message
        assert ctx.verify is not None
        assert ctx.verify.database_url == ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
        assert name in pg_databases()
        with psycopg.connect(ctx.verify.database_url, connect_timeout=3) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        assert len(ctx.verify.cleanups) == 1
        await ctx.verify.cleanups[0]()
        assert name not in pg_databases()


async def test_an_unreachable_database_server_fails_the_phase_with_its_password_masked(
    tmp_path: Path, library: Path
) -> None:
    url = "postgresql://someone:s3cret-pw@127.0.0.1:9/postgres"  # port 9: nobody there
    settings = VerifySettings(trusted=True, database_url=url)
    async with run_context(tmp_path, library, settings) as ctx:
        outcome = await Deployment().run(ctx)
    assert outcome.status == "failed"
    assert "s3cret-pw" not in outcome.message
    assert "someone:***@127.0.0.1:9" in outcome.message
    assert ctx.verify is None
