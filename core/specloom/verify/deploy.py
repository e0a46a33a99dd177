"""Phase 7, deployment: an interpreter and a database for the generated app.

- The interpreter: Specloom's own when it already has every package of the app's
  `requirements.txt`, else a virtual environment made once per set of requirements and
  cached under `~/.cache/specloom/envs/<sha256>` (`$XDG_CACHE_HOME` honoured).
- The database: a SQLite file in the run's directory, or, when the verify settings name
  a PostgreSQL server, a database of the run's own on it, dropped when the run ends.

Nothing runs unless the workspace is trusted: the phase is then skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from specloom.pipeline.cancel import CancelToken
from specloom.pipeline.phase import Phase, PhaseOutcome, RunContext
from specloom.store.errors import mask_url
from specloom.verify import warm
from specloom.verify.sandbox import Completed, Limits
from specloom.verify.sandbox import run as sandbox_run
from specloom.verify.state import VerifyState

if TYPE_CHECKING:
    from packaging.requirements import Requirement

REQUIREMENTS = "requirements.txt"
READY = ".specloom-ready"  # written into a cached environment once pip has finished
UNTRUSTED = (
    "the workspace is not trusted: generated code is not run "
    "(trust it with --trust or in the editor)"
)
# extras that only make a package faster or nicer, never change what the app does:
# the interpreter that has the package without them can run the app
OPTIONAL_EXTRAS = {("uvicorn", "standard")}
# what pip needs from the environment to reach an index (given to pip only)
PIP_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


class CommandRunner(Protocol):
    """How deployment runs a command (the sandbox's `run`; tests give their own)."""

    def __call__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        cancel: CancelToken | None = None,
    ) -> Awaitable[Completed]: ...


class DeploymentError(Exception):
    """Why the app cannot be deployed, in one line."""


# --- the interpreter --------------------------------------------------------------------


def read_requirements(app_dir: Path) -> list[str]:
    """The requirement lines of the app's requirements.txt (comments and blanks left out)."""
    path = app_dir / REQUIREMENTS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DeploymentError(f"the app has no readable {REQUIREMENTS}: {error}") from error
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def unsatisfied(requirements: Sequence[str]) -> list[str]:
    """The requirements the current interpreter does not meet: a package missing or of
    another version, or a missing package of a requested extra (OPTIONAL_EXTRAS aside).
    A line that is not a plain requirement (`-r`, a URL) counts as unmet."""
    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement

    missing: list[str] = []
    environment = {key: str(value) for key, value in default_environment().items()}
    for line in requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            missing.append(line)
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(
            {**environment, "extra": ""}
        ):
            continue
        if not _installed(requirement, environment):
            missing.append(line)
    return missing


def _installed(requirement: Requirement, environment: dict[str, str]) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        distribution = importlib.metadata.distribution(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    if requirement.url or not requirement.specifier.contains(
        distribution.version, prereleases=True
    ):
        return False
    name = canonicalize_name(requirement.name)
    for extra in requirement.extras:
        if (name, extra) in OPTIONAL_EXTRAS:
            continue
        for line in distribution.requires or []:
            try:
                needed = Requirement(line)
            except InvalidRequirement:
                continue
            if needed.marker is None or not needed.marker.evaluate({**environment, "extra": extra}):
                continue
            if needed.marker.evaluate({**environment, "extra": ""}):
                continue  # not specific to the extra: the package's own dependency
            if not _installed(Requirement(str(needed).split(";", 1)[0]), environment):
                return False
    return True


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/specloom/envs`, or `~/.cache/specloom/envs`."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "specloom" / "envs"


def requirements_key(requirements: Sequence[str]) -> str:
    """The sha256 of the Python version and the sorted requirements: the name of their
    cached environment (an environment of another Python is never reused)."""
    python = "python " + ".".join(map(str, sys.version_info[:3]))
    return hashlib.sha256("\n".join([python, *sorted(requirements)]).encode("utf-8")).hexdigest()


def env_python(env_dir: Path) -> Path:
    if os.name == "nt":  # pragma: no cover - the sandbox is POSIX only
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def cached_env(env_dir: Path) -> Path | None:
    """The interpreter of a finished cached environment, or None."""
    python = env_python(env_dir)
    if (env_dir / READY).is_file() and python.exists():
        return python
    return None


@dataclass
class Environment:
    python: str
    kind: str  # "current": Specloom's own interpreter; "cached": reused; "new": made now


async def prepare_environment(
    app_dir: Path,
    runner: CommandRunner,
    limits: Limits,
    cancel: CancelToken | None = None,
    cache: Path | None = None,
) -> Environment:
    """The interpreter that runs the app (see the module's docstring)."""
    requirements = read_requirements(app_dir)
    try:
        missing = unsatisfied(requirements)
    except ImportError as error:  # `packaging`, which reads requirements
        raise DeploymentError(f"cannot read the app's requirements: {error}") from error
    if not missing:
        return Environment(sys.executable, "current")
    env_dir = (cache or cache_root()) / requirements_key(requirements)
    python = cached_env(env_dir)
    if python is not None:
        return Environment(str(python), "cached")
    # made beside its final place and renamed when complete: a run killed half-way, or
    # two runs at once, never leave a half-made environment under the final name
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    building = env_dir.with_name(f"{env_dir.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        made = await runner(
            [sys.executable, "-m", "venv", str(building)], app_dir, None, limits, cancel
        )
        if not made.ok:
            raise DeploymentError(f"python -m venv failed: {_tail(made)}")
        pip_env = {name: os.environ[name] for name in PIP_VARIABLES if name in os.environ}
        installed = await runner(
            [
                str(env_python(building)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-q",
                "-r",
                str((app_dir / REQUIREMENTS).resolve()),
            ],
            app_dir,
            pip_env,
            limits,
            cancel,
        )
        if not installed.ok:
            raise DeploymentError(f"pip install -r {REQUIREMENTS} failed: {_tail(installed)}")
        (building / READY).write_text("\n".join(sorted(requirements)) + "\n", encoding="utf-8")
        try:
            building.rename(env_dir)
        except OSError:
            if cached_env(env_dir) is None:  # not another run's finished copy: a real error
                raise
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    python = cached_env(env_dir)
    if python is None:
        raise DeploymentError(f"the environment at {env_dir} is incomplete")
    return Environment(str(python), "new")


def _tail(completed: Completed, lines: int = 3) -> str:
    text = (completed.stderr or completed.stdout).strip().splitlines()
    reason = " | ".join(text[-lines:]) if text else f"exit code {completed.returncode}"
    return ("timed out: " if completed.timed_out else "") + reason


# --- the database -----------------------------------------------------------------------


def database_name(run_id: str) -> str:
    """`specloom_<run id>`, as a PostgreSQL identifier needs it (63 characters at most)."""
    return ("specloom_" + re.sub(r"[^a-z0-9_]", "_", run_id.lower()))[:63]


def sqlite_url(run_dir: Path) -> str:
    """A fresh SQLite file in the run's directory (an earlier one is removed)."""
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "app.db"
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _libpq_url(url: str) -> str:
    """The URL as libpq (psycopg) reads it: `postgresql://` without a driver name."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme.lower().startswith(("postgresql", "postgres")):
        return f"postgresql://{rest}"
    return url


def with_database(url: str, name: str) -> str:
    """The server's URL with another database (query string kept)."""
    from sqlalchemy.engine import make_url

    return make_url(_libpq_url(url)).set(database=name).render_as_string(hide_password=False)


def _masked_reason(error: BaseException, url: str) -> str:
    from sqlalchemy.engine import make_url

    reason = " ".join(str(error).split()) or type(error).__name__
    with contextlib.suppress(Exception):
        password = make_url(_libpq_url(url)).password
        if password:
            reason = reason.replace(str(password), "***")
    return reason.replace(url, mask_url(url))


async def _execute(server_url: str, statement: Any) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(
        _libpq_url(server_url), autocommit=True, connect_timeout=5
    ) as connection:
        await connection.execute(statement)


async def create_database(server_url: str, name: str) -> str:
    """Create (afresh) database `name` on the server; the app's URL to it. Raises
    DeploymentError, the URL's password masked, when the server cannot be reached."""
    from psycopg import Error, sql

    try:
        await _execute(
            server_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        )
        await _execute(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except (Error, OSError) as error:
        raise DeploymentError(
            f"the database server at {mask_url(server_url)} cannot be used: "
            f"{_masked_reason(error, server_url)}"
        ) from error
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    from psycopg import sql

    await _execute(
        server_url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
    )


# --- the phase --------------------------------------------------------------------------


# what the `app` extra installs: with them, this interpreter is likely the app's
WARM_WHEN = ("fastapi", "uvicorn", "sqlalchemy", "pytest")


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


class Deployment(Phase):
    number, key, name = 7, "deployment", "deployment"

    def __init__(self, runner: CommandRunner | None = None, cache: Path | None = None) -> None:
        self.runner: CommandRunner = runner or sandbox_run
        self.cache = cache  # None: cache_root(), read when the phase runs

    def run_started(self, ctx: RunContext) -> None:
        """A trusted run will verify its app, most often with this interpreter: its
        zygote starts importing the app's libraries now, while phases 1 to 6 run."""
        if ctx.settings.verify.trusted and all(map(_importable, WARM_WHEN)):
            warm.prepare(sys.executable)

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        if not ctx.settings.verify.trusted:
            return PhaseOutcome("skipped", UNTRUSTED)
        if ctx.app_dir is None:
            return PhaseOutcome("failed", "no app to deploy: no app directory was given")
        began = time.perf_counter()
        settings = ctx.settings.verify
        app_dir = ctx.app_dir.resolve()
        if ctx.verify is not None:  # deployed before (a repeated pass): free what it held
            await run_cleanups(ctx.verify)
            ctx.verify = None
        try:
            environment = await prepare_environment(
                app_dir, self.runner, settings.check_limits, ctx.cancel, self.cache
            )
            ctx.cancel.raise_if_cancelled()
            cleanups: list[Callable[[], Awaitable[None]]] = []
            if settings.database_url is None:
                database_url = sqlite_url(ctx.staging.root.parent)
            else:
                server = settings.database_url
                name = database_name(ctx.run.id)
                database_url = await create_database(server, name)

                async def drop(server: str = server, name: str = name) -> None:
                    await drop_database(server, name)

                cleanups.append(drop)
        except DeploymentError as error:
            return PhaseOutcome("failed", str(error))
        # the checks of phases 9 and 10 fork from the interpreter's zygote: it starts
        # importing the app's libraries now (in the background), if it is not up yet
        warm.prepare(environment.python)
        ctx.verify = VerifyState(
            app_dir=app_dir,
            reference=dict(ctx.generated),
            python=environment.python,
            database_url=database_url,
            cleanups=list(cleanups),
            pycache=ctx.workspace / ".specloom" / "cache" / "pycache",
        )
        # the libraries' bytecode is kept across runs; the app's is not: a module edited
        # since (by the user, between two validations of one output) must never meet
        # its old bytecode, which Python trusts while size and mtime second match
        await asyncio.to_thread(forget_app_bytecode, ctx.verify)
        seconds = round(time.perf_counter() - began, 3)
        where = {
            "current": "the current interpreter",
            "cached": "a cached environment",
            "new": "a new environment",
        }[environment.kind]
        masked = mask_url(database_url)
        return PhaseOutcome(
            "passed",
            f"{where}, database {masked}",
            {
                "python": environment.python,
                "environment": environment.kind,
                "database": masked,
                "seconds": seconds,
            },
        )


def forget_app_bytecode(state: VerifyState) -> None:
    """Remove the cached bytecode of every module under the app's directory."""
    if state.pycache is None:
        return
    app = state.app_dir.resolve()
    shutil.rmtree(state.pycache / app.relative_to(app.anchor), ignore_errors=True)


async def run_cleanups(state: VerifyState) -> list[str]:
    """Run and forget a verify state's cleanups (see `VerifyState.clean_up`)."""
    return await state.clean_up()
