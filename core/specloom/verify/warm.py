"""Warm interpreters: a check's process forked from an interpreter that has already
imported what generated apps use, instead of a new interpreter importing it all again.

A generated app's pytest run, its OpenAPI dump and its uvicorn each spend about a
second importing FastAPI, SQLAlchemy, pydantic, pytest and uvicorn before doing any of
their own work; the verify loop starts three of them, and an incremental regeneration
starts them again for a one-field edit. A *zygote* (`zygote_main`) imports those
libraries once per interpreter and forks a child per command; the child then imports
only the app. It stays up while this process lives and exits when it ends.

The stdlib's `multiprocessing` forkserver does the same for Python functions, but it
is started with this process's environment (API keys included) and runs children with
this interpreter only; the zygote is started like any sandboxed process (the clean
environment, its own session, the memory limit), in the app's interpreter, and its
children are commands (`-c` or `-m`), so what runs in them is what would run in a new
process. `SPECLOOM_WARM=0` turns it off: every check then starts a new interpreter.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from specloom.verify import zygote_main

# what the generated apps, their tests and the checks (mypy) import; a module the
# interpreter lacks is left out by the zygote
PRELOAD = (
    "fastapi",
    "fastapi.responses",
    "fastapi.testclient",
    "starlette.testclient",
    "pydantic",
    "pydantic.v1",  # FastAPI imports it on the first route, to tell v1 models apart
    "pydantic.functional_serializers",
    "email_validator",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "psycopg2",
    "asyncpg",
    "aiosqlite",
    "httpx",
    "anyio",
    "uvicorn",
    "uvicorn.main",
    "uvicorn.config",
    "uvicorn.server",
    "pytest",
    "_pytest.junitxml",
    "mypy.main",
    "mypy.build",
)
READY_SECONDS = 30.0  # a zygote that has not imported its modules by then is given up
MEMORY_MB = 4096  # the zygote's own address space; each child lowers its own


def enabled() -> bool:
    """On unless SPECLOOM_WARM says off; never where there is no fork or Unix socket."""
    if not hasattr(os, "fork") or not hasattr(socket, "AF_UNIX"):
        return False
    return os.environ.get("SPECLOOM_WARM", "1").strip().lower() not in ("0", "false", "no", "off")


class Zygote:
    """One warm interpreter: started on first use, ready once it has imported PRELOAD."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.ready = threading.Event()
        self.failed = ""  # why it could not start
        self.process: subprocess.Popen[bytes] | None = None
        self._directory = Path(tempfile.mkdtemp(prefix="specloom-zygote-"))
        self.socket_path = str(self._directory / "socket")
        self._thread = threading.Thread(target=self._start, name="specloom-zygote", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        from specloom.verify.sandbox import clean_environment

        source = Path(zygote_main.__file__).read_text("utf-8")
        argv = [self.python, "-c", source, self.socket_path, str(MEMORY_MB), *PRELOAD]
        try:
            self.process = subprocess.Popen(
                argv,
                cwd=self._directory,
                env=clean_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            stdout: IO[bytes] | None = self.process.stdout
            line = stdout.readline() if stdout is not None else b""
        except OSError as error:
            self.failed = f"could not start {self.python}: {error}"
            self.ready.set()
            return
        if line.strip() != b"ready":
            self.failed = f"{self.python} exited while importing (code {self.process.wait()})"
        self.ready.set()

    @property
    def usable(self) -> bool:
        return (
            self.ready.is_set()
            and not self.failed
            and self.process is not None
            and self.process.poll() is None
        )

    async def spawn(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], memory_mb: int
    ) -> WarmProcess:
        """Fork a child running `python ARGV...` (argv without the interpreter)."""
        pipes = [os.pipe(), os.pipe()]
        stdin = os.open(os.devnull, os.O_RDONLY)
        theirs = [stdin, pipes[0][1], pipes[1][1]]
        body = json.dumps(
            {"argv": list(argv), "cwd": str(cwd), "env": dict(env), "memory_mb": memory_mb}
        ).encode("utf-8")
        try:
            conn = await asyncio.to_thread(self._request, body, theirs)
        except BaseException:
            for fd in (pipes[0][0], pipes[1][0]):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        reader, writer = await asyncio.open_unix_connection(sock=conn)
        answer = (await reader.readline()).decode("ascii", "replace").split()
        if len(answer) != 2 or answer[0] != "pid":
            writer.close()
            for fd in (pipes[0][0], pipes[1][0]):
                os.close(fd)
            raise OSError(f"the warm interpreter refused the command: {' '.join(answer)}")
        stdout = await _stream(pipes[0][0])
        stderr = await _stream(pipes[1][0])
        return WarmProcess(int(answer[1]), reader, writer, stdout, stderr)

    def _request(self, body: bytes, fds: list[int]) -> socket.socket:
        """Connect and send a command with its three descriptors (blocking: a thread)."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(10.0)
            conn.connect(self.socket_path)
            socket.send_fds(conn, [zygote_main.HEADER.pack(len(body))], fds)
            conn.sendall(body)
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self._directory, ignore_errors=True)


async def _stream(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    pipe = os.fdopen(fd, "rb", 0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader


class WarmProcess:
    """A child of a zygote, looking like an `asyncio.subprocess.Process` to the sandbox:
    `pid` (its process group too), `returncode`, `wait()`, `communicate()`, signals."""

    def __init__(
        self,
        pid: int,
        control: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
    ) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdout: asyncio.StreamReader | None = stdout
        self.stderr: asyncio.StreamReader | None = stderr
        self._writer = writer
        self._exit = asyncio.ensure_future(self._exited(control))

    async def _exited(self, control: asyncio.StreamReader) -> int:
        answer = (await control.readline()).decode("ascii", "replace").split()
        self._writer.close()
        if len(answer) == 2 and answer[0] == "exit":
            self.returncode = int(answer[1])
        else:  # the zygote is gone: so is its child's report
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            self.returncode = -signal.SIGKILL
        return self.returncode

    async def wait(self) -> int:
        return await asyncio.shield(self._exit)

    async def communicate(self) -> tuple[bytes, bytes]:
        assert self.stdout is not None
        assert self.stderr is not None
        out, err = await asyncio.gather(self.stdout.read(), self.stderr.read())
        await self.wait()
        return out, err

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_zygotes: dict[str, Zygote] = {}
_lock = threading.Lock()


def prepare(python: str) -> Zygote | None:
    """The zygote of `python`, started now when there is none (it warms up in the
    background); None when warm interpreters are off."""
    if not enabled():
        return None
    with _lock:
        zygote = _zygotes.get(python)
        if zygote is None or (zygote.ready.is_set() and not zygote.usable):
            if zygote is not None and not zygote.failed:  # it died: start another
                zygote.close()
                zygote = None
            if zygote is None:
                zygote = _zygotes[python] = Zygote(python)
        return zygote


async def ready(python: str, wait: float = READY_SECONDS) -> Zygote | None:
    """The zygote of `python` once it is ready (started if need be), or None: turned
    off, failed to start, or not ready within `wait` seconds."""
    zygote = prepare(python)
    if zygote is None:
        return None
    if not zygote.ready.is_set():
        await asyncio.to_thread(zygote.ready.wait, wait)
    return zygote if zygote.usable else None


@atexit.register
def close_all() -> None:
    """Stop every zygote (and its children) and remove its socket's directory."""
    with _lock:
        for zygote in _zygotes.values():
            zygote.close()
        _zygotes.clear()
