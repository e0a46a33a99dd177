"""Where generated code runs: a subprocess in its own session, with a time limit and a
memory limit, and an environment that keeps only what a program needs to run (no API
keys, no tokens, no store URLs). A process that outlives its time is killed with its
whole process group; cancelling the run does the same.

A Python command (`python -c ...`, `python -m ...`) started with `warm=True` is forked
from the interpreter's zygote (`specloom.verify.warm`) when it has one ready: the same
environment, session and limits, without importing the app's libraries again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from specloom.pipeline.cancel import CancelToken

# the variables a subprocess inherits; everything else (API keys included) stays here
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class Limits:
    seconds: float = 300.0
    memory_mb: int = 4096  # address space of each process
    # where the process keeps byte-compiled files (PYTHONPYCACHEPREFIX: a tree mirroring
    # the sources' absolute paths), never beside the sources; None: it writes none
    pycache: Path | None = None


@dataclass
class Completed:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class Running(Protocol):
    """A started process: a subprocess, or a zygote's child (`warm.WarmProcess`)."""

    pid: int
    stdout: asyncio.StreamReader | None
    stderr: asyncio.StreamReader | None

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    async def communicate(self) -> tuple[bytes, bytes]: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


def clean_environment(
    extra: Mapping[str, str] | None = None, pycache: Path | None = None
) -> dict[str, str]:
    """The environment of a sandboxed process: the inherited basics, then `extra`.
    Byte-compiled files go under `pycache` when one is given, else nowhere (the app's
    directory is never written)."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _limit(memory_mb: int) -> None:  # runs in the child, before exec
    size = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


async def start(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    capture: bool = True,
    warm: bool = False,
) -> Running:
    """Start a sandboxed process (its own session, so it can be killed as a group);
    with `warm`, a Python command is forked from its interpreter's zygote if it can be."""
    limits = limits or Limits()
    if warm and capture and len(argv) >= 2 and argv[1] in ("-c", "-m"):
        from specloom.verify import warm as zygotes

        zygote = await zygotes.ready(str(argv[0]))
        if zygote is not None:
            with contextlib.suppress(OSError):
                return await zygote.spawn(
                    argv[1:],
                    Path(cwd).resolve(),
                    clean_environment(env, limits.pycache),
                    limits.memory_mb,
                )
    pipe = asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=clean_environment(env, limits.pycache),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=pipe,
        stderr=pipe,
        start_new_session=True,
        preexec_fn=lambda: _limit(limits.memory_mb),
    )


async def stop(process: Running, grace: float = 3.0) -> None:
    """Stop a process and its group: SIGTERM, then SIGKILL after `grace` seconds."""
    if process.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # not yet the leader of its own group (a zygote's child)
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), wait)
            return
        except TimeoutError:
            continue


async def run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    cancel: CancelToken | None = None,
    warm: bool = False,
) -> Completed:
    """Run a sandboxed command to its end, its time limit, or the run's cancellation
    (then the process group is killed and Cancelled raised)."""
    limits = limits or Limits()
    began = time.perf_counter()
    process = await start(argv, cwd, env, limits, warm=warm)
    communicate = asyncio.ensure_future(process.communicate())
    waiters: set[asyncio.Future[object]] = {communicate}  # type: ignore[arg-type]
    cancelled = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if cancelled is not None:
        waiters.add(cancelled)  # type: ignore[arg-type]
    try:
        done, _ = await asyncio.wait(
            waiters, timeout=limits.seconds, return_when=asyncio.FIRST_COMPLETED
        )
    except asyncio.CancelledError:  # the awaiting task itself was cancelled
        await asyncio.shield(stop(process))
        communicate.cancel()
        raise
    finally:
        if cancelled is not None:
            cancelled.cancel()
    if communicate in done:
        out, err = communicate.result()
        return Completed(
            list(argv),
            process.returncode if process.returncode is not None else -1,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            time.perf_counter() - began,
        )
    await stop(process)
    with contextlib.suppress(Exception):
        out, err = await asyncio.wait_for(communicate, 5.0)
    if cancel is not None:
        cancel.raise_if_cancelled()
    return Completed(
        list(argv), -9, "", f"killed after {limits.seconds:g} s", time.perf_counter() - began, True
    )
