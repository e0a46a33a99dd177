"""Test modules rendered by worker processes while phase 6 renders the application.

Rendering a test module is pure and bound by the processor (the scenario solver's
search), and the modules of a plan's tests tasks do not depend on one another: forked
workers render them, each sending back the module's text, while the generator renders
the application's own files. The generator places a module's text when its task's turn
comes, so the tree is the same as one process renders.

The workers are plain `os.fork()` children (not multiprocessing's, whose start-up
closes the standard input: in the language server another thread is reading it, and
the child would wait for that thread's lock forever). They inherit the IR; they take
the index of the next module to render from a pipe the parent filled before forking,
send back (index, text) frames on a pipe of their own, and leave with `os._exit`. A
module a worker could not render (an error, a worker that died) is rendered again in
the generator's process, so its error is raised there as without workers.

Where fork is not available, with one processor, or with `SPECLOOM_CODEGEN_WORKERS=1`,
every module is rendered in the generator's process.
"""

from __future__ import annotations

import contextlib
import gc
import os
import selectors
import signal
import struct
import weakref
from dataclasses import dataclass, field

from specloom.codegen.testgen import render_test_module
from specloom.ir.application import ApplicationIR

WORKERS_VARIABLE = "SPECLOOM_CODEGEN_WORKERS"
MAX_WORKERS = 8
MAX_JOBS = 4096  # their indices (4 bytes each) fit in a pipe's buffer before any fork
_CLAIM = struct.Struct(">I")
_FRAME = struct.Struct(">IBI")  # job index, rendered (1) or not (0), length of the text


def worker_count() -> int:
    """How many workers to fork: `SPECLOOM_CODEGEN_WORKERS`, else one per processor this
    process may run on (at most MAX_WORKERS); 1 means no worker at all."""
    chosen = os.environ.get(WORKERS_VARIABLE, "").strip()
    if chosen.isdigit():
        return max(1, int(chosen))
    if not hasattr(os, "fork"):
        return 1
    try:
        processors = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        processors = os.cpu_count() or 1
    return max(1, min(processors, MAX_WORKERS))


Job = tuple[str, tuple[str, ...]]  # subject, requirement IDs


@dataclass
class _Workers:
    """The forked workers of one generator: their pids and result pipes, and what they
    have sent so far."""

    pids: list[int] = field(default_factory=list)
    selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    buffers: dict[int, bytearray] = field(default_factory=dict)  # fd -> bytes not parsed yet
    texts: dict[int, str | None] = field(default_factory=dict)  # job index -> text (None: failed)

    def receive(self) -> bool:
        """Read what the workers sent; False once every worker has finished."""
        if not self.buffers:
            return False
        for key, _ in self.selector.select():
            fd = int(key.fd)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.selector.unregister(fd)
                os.close(fd)
                del self.buffers[fd]
                continue
            buffer = self.buffers[fd]
            buffer += chunk
            while len(buffer) >= _FRAME.size:
                index, rendered, length = _FRAME.unpack_from(buffer)
                end = _FRAME.size + length
                if len(buffer) < end:
                    break
                text = bytes(buffer[_FRAME.size : end]).decode("utf-8")
                self.texts[index] = text if rendered else None
                del buffer[:end]
        return True

    def stop(self) -> None:
        for fd in list(self.buffers):
            self.selector.unregister(fd)
            os.close(fd)
        self.buffers.clear()
        self.selector.close()
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # one that has not finished: holds nothing
            with contextlib.suppress(ChildProcessError):  # reaped by someone else
                os.waitpid(pid, 0)
        self.pids.clear()


class TestModules:
    """The text of test modules: rendered ahead by forked workers (`start`), or on the
    spot when no worker was started or one could not render it."""

    def __init__(self, ir: ApplicationIR) -> None:
        self.ir = ir
        self.jobs: dict[Job, int] = {}  # job -> index
        self.workers: _Workers | None = None
        self.stop: weakref.finalize[[], TestModules] | None = None
        self.left = 0  # modules the workers render that no task has taken yet

    def start(self, jobs: list[tuple[str, list[str]]], workers: int) -> None:
        """Render these (subject, requirement IDs) ahead, the module of every rule first
        (the largest), then in the order given."""
        ordered = sorted(jobs, key=lambda job: job[0] != "rules")
        for subject, requirement_ids in ordered[:MAX_JOBS]:
            self.jobs.setdefault((subject, tuple(requirement_ids)), len(self.jobs))
        count = min(workers, len(self.jobs))
        if count < 2 or not hasattr(os, "fork"):
            self.jobs.clear()
            return
        claims, offer = os.pipe()
        os.write(offer, b"".join(_CLAIM.pack(index) for index in range(len(self.jobs))))
        os.close(offer)  # a worker reading past the last index finds the end: it is done
        self.workers = running = _Workers()
        self.stop = weakref.finalize(self, running.stop)  # once: by close, or when collected
        listed = list(self.jobs)
        gc.freeze()  # the workers' collections leave the inherited objects (and pages) alone
        try:
            for _ in range(count):
                results, send = os.pipe()
                try:
                    pid = os.fork()
                except OSError:  # no more processes: the workers started will do
                    os.close(results)
                    os.close(send)
                    break
                if pid == 0:  # the worker
                    os.close(results)
                    _work(self.ir, listed, claims, send)
                os.close(send)
                running.pids.append(pid)
                running.buffers[results] = bytearray()
                running.selector.register(results, selectors.EVENT_READ)
        finally:
            gc.unfreeze()
            os.close(claims)
        self.left = len(self.jobs)

    def text(self, subject: str, requirement_ids: list[str]) -> str:
        """The module's text: the worker's when one rendered it, else rendered here."""
        index = self.jobs.pop((subject, tuple(requirement_ids)), None)
        running = self.workers
        if index is not None and running is not None:
            while index not in running.texts and running.receive():
                pass
            text = running.texts.pop(index, None)
            self.left -= 1
            if self.left == 0:
                self.close()  # every module taken: the workers are done
            if text is not None:
                return text
        return render_test_module(self.ir, subject, requirement_ids)

    def close(self) -> None:
        """Stop the workers (reaping them); what they had not sent is rendered here."""
        self.jobs.clear()
        if self.stop is not None:
            self.stop()
        self.workers = None


def _work(ir: ApplicationIR, jobs: list[Job], claims: int, send: int) -> None:
    """A worker's life: render the modules whose indices it claims, send each, exit."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent's handlers are not ours
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            claim = os.read(claims, _CLAIM.size)
            if len(claim) < _CLAIM.size:
                break
            (index,) = _CLAIM.unpack(claim)
            subject, requirement_ids = jobs[index]
            try:
                payload = render_test_module(ir, subject, list(requirement_ids)).encode("utf-8")
                rendered = 1
            except Exception:  # rendered again by the generator, which raises it there
                payload, rendered = b"", 0
            frame = memoryview(_FRAME.pack(index, rendered, len(payload)) + payload)
            while frame:
                frame = frame[os.write(send, frame) :]
    except BaseException:  # the parent went away, or a signal: stop quietly
        status = 1
    finally:
        os._exit(status)
