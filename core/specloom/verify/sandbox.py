"""Where generated code runs: a subprocess in its own session, with a time limit and a
memory limit, and an environment that keeps only what a program needs to run (no API
keys, no tokens, no store URLs). A process that outlives its time is killed with its
whole process group; cancelling the run does the same."""

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

from specloom.pipeline.cancel import CancelToken

# the variables a subprocess inherits; everything else (API keys included) stays here
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class Limits:
    seconds: float = 300.0
    memory_mb: int = 4096  # address space of each process


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


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a sandboxed process: the inherited basics, then `extra`."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
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
) -> asyncio.subprocess.Process:
    """Start a sandboxed process (its own session, so it can be killed as a group)."""
    limits = limits or Limits()
    pipe = asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=clean_environment(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=pipe,
        stderr=pipe,
        start_new_session=True,
        preexec_fn=lambda: _limit(limits.memory_mb),
    )


async def stop(process: asyncio.subprocess.Process, grace: float = 3.0) -> None:
    """Stop a process and its group: SIGTERM, then SIGKILL after `grace` seconds."""
    if process.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
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
) -> Completed:
    """Run a sandboxed command to its end, its time limit, or the run's cancellation
    (then the process group is killed and Cancelled raised)."""
    limits = limits or Limits()
    began = time.perf_counter()
    process = await start(argv, cwd, env, limits)
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
