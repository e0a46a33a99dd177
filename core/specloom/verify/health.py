"""Phase 10, health verification: start the app under uvicorn in the sandbox, wait for
`/health`, then send one well-formed request to every operation of its OpenAPI
document. A 5xx, a timeout or a dropped connection is a finding located at the router
function that serves the endpoint; an app that exits or never answers is one too. The
app is stopped, with its process group, in every case."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import signal
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specloom.ir.application import ApplicationIR
from specloom.pipeline.cancel import CancelToken
from specloom.pipeline.events import PhaseProgressed
from specloom.pipeline.phase import Phase, PhaseOutcome, RunContext
from specloom.verify import sandbox
from specloom.verify.findings import Finding, Span
from specloom.verify.requests import (
    OpenApi,
    Operation,
    Request,
    RequestBuilder,
    hints_from_ir,
    order,
)
from specloom.verify.settings import VerifySettings
from specloom.verify.state import VerifyState
from specloom.verify.traceindex import TraceIndex

if TYPE_CHECKING:  # httpx comes with the `app` extra: imported when a check runs
    import httpx

POLL_SECONDS = 0.02  # between attempts of GET /health while the app starts
TAIL_LINES = 40
# uvicorn, with a stack dump of every thread on SIGUSR1 (where a hanging app is stuck)
BOOT = (
    "import faulthandler, runpy, signal, sys; "
    "faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "sys.argv = ['uvicorn', *sys.argv[1:]]; "
    "runpy.run_module('uvicorn', run_name='__main__', alter_sys=True)"
)
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def free_port() -> int:
    """A TCP port of 127.0.0.1 no one listens on (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class HealthResult:
    findings: list[Finding] = field(default_factory=list)
    endpoints: int = 0  # operations of the OpenAPI document
    answered: int = 0  # of them, answered below 500
    seconds: float = 0.0
    port: int = 0
    pid: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # "GET /books/{id}" -> status

    def figures(self) -> dict[str, Any]:
        return {
            "endpoints": self.endpoints,
            "answered": self.answered,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Launched:
    """The app started under uvicorn for a health check, not yet called."""

    process: sandbox.Running
    port: int
    stdout: _Output
    stderr: _Output
    iteration: int  # the verify pass (`VerifyState.iteration`) whose files it runs

    async def stop(self) -> None:
        """Kill it with its process group (uvicorn's graceful shutdown on SIGTERM takes
        0.1-0.2 s and is not what the check is about), and stop its output readers."""
        await sandbox.stop(self.process, grace=0.0)
        if self.process.returncode is None:  # pragma: no cover - stop waits for the kill
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        await self.stdout.close()
        await self.stderr.close()


class _Output:
    """The last lines a process wrote on one stream, read as they come (a pipe never
    fills up and blocks the app)."""

    def __init__(self, stream: asyncio.StreamReader | None) -> None:
        self.lines: deque[str] = deque(maxlen=TAIL_LINES)
        self.count = 0  # lines read so far
        self.task = asyncio.ensure_future(self._read(stream)) if stream is not None else None

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))
            self.count += 1

    async def drained(self, wait: float = 1.0) -> None:
        """Wait (a little) for the rest of what an ended process wrote."""
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self.task), wait)

    def since(self, count: int) -> str:
        """What was written after the `count`-th line (as far as the tail keeps it)."""
        new = min(len(self.lines), self.count - count)
        return "\n".join(list(self.lines)[len(self.lines) - new :]) if new > 0 else ""

    async def close(self, wait: float = 1.0) -> None:
        if self.task is None:
            return
        await self.drained(wait)
        self.task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self.task

    def text(self) -> str:
        return "\n".join(self.lines)


class HealthChecker:
    """One health check of one deployed app."""

    def __init__(
        self,
        state: VerifyState,
        settings: VerifySettings,
        ir: ApplicationIR | None = None,
        cancel: CancelToken | None = None,
        progress: Any = None,  # async (done, total, message) -> None
    ) -> None:
        self.state = state
        self.settings = settings
        self.ir = ir
        self.cancel = cancel or CancelToken()
        self.progress = progress
        self.trace = TraceIndex.load(state.app_dir)
        self.hints = hints_from_ir(ir)
        self.result = HealthResult()

    async def launch(self) -> Launched:
        """Start the app under uvicorn (forked from the warm interpreter when there is
        one); `check` then calls it. Raises OSError when it cannot be started."""
        port = free_port()
        argv = [self.state.python, "-c", BOOT, "app.main:app", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--no-access-log"]
        process = await sandbox.start(
            argv,
            cwd=self.state.app_dir,
            env={"DATABASE_URL": self.state.database_url},
            limits=dataclasses.replace(self.settings.app_limits, pycache=self.state.pycache),
            warm=True,
        )
        return Launched(
            process, port, _Output(process.stdout), _Output(process.stderr), self.state.iteration
        )

    async def check(self, launched: Launched | None = None) -> HealthResult:
        """Call the app, started here or already (`launched`: by phase 9, on the files
        it validated), then stop it. Raises Cancelled (the app stopped first)."""
        import httpx

        began = time.perf_counter()
        if launched is None:
            try:
                launched = await self.launch()
            except OSError as error:  # no such interpreter or directory
                self._add(
                    Finding(
                        check="health",
                        kind="exited",
                        message=f"the app could not be started: {error}",
                        detail={"argv": [self.state.python, "-c", BOOT, "app.main:app"]},
                    )
                )
                self.result.seconds = time.perf_counter() - began
                return self.result
        process, stderr = launched.process, launched.stderr
        self.result.port, self.result.pid = launched.port, process.pid
        base = f"http://127.0.0.1:{launched.port}"
        try:
            # plain HTTP on loopback: no TLS context (loading the CA bundle takes 15-40 ms)
            async with httpx.AsyncClient(
                base_url=base, timeout=self.settings.request_seconds, verify=False
            ) as client:
                budget = max(1.0, self.settings.app_limits.seconds)
                try:
                    await asyncio.wait_for(self._exercise(client, process, stderr), budget)
                except TimeoutError:
                    self._add(
                        Finding(
                            check="health",
                            kind="timeout",
                            message=f"the health check did not finish within {budget:g} s",
                        )
                    )
        finally:
            await launched.stop()
            self.result.seconds = time.perf_counter() - began
        return self.result

    # --- the steps ---------------------------------------------------------------------

    async def _exercise(
        self, client: httpx.AsyncClient, process: sandbox.Running, stderr: _Output
    ) -> None:
        import httpx

        if not await self._started(client, process, stderr):
            return
        document = await self._openapi(client, process, stderr)
        if document is None:
            return
        api = OpenApi(document)
        operations = order(api.operations(self.hints))
        self.result.endpoints = len(operations)
        builder = RequestBuilder(api)
        for done, operation in enumerate(operations):
            self.cancel.raise_if_cancelled()
            if self.progress is not None:
                await self.progress(done, len(operations), operation.label)
            request = builder.build(operation)
            try:
                response = await self._send(client, request)
            except httpx.TimeoutException:
                self._endpoint(operation, "timeout", f"no answer within {self._timeout:g} s")
                continue
            except httpx.TransportError as error:
                if await _ended(process, grace=0.5):
                    await self._exited(process, stderr, f"while answering {operation.label}")
                    return
                self._endpoint(operation, "no-answer", f"the connection failed: {error!r}")
                continue
            self.result.statuses[operation.label] = response.status_code
            if response.status_code >= 500:
                self._endpoint(
                    operation,
                    "status-5xx",
                    f"answered {response.status_code}",
                    status=response.status_code,
                    sent=request.json if request.has_body else None,
                    url=request.url,
                )
                continue
            self.result.answered += 1
            answer: Any = None
            with contextlib.suppress(ValueError):
                answer = response.json()
            builder.remember(operation, response.status_code, answer)
        if self.progress is not None:
            await self.progress(len(operations), len(operations), "done")

    async def _send(self, client: httpx.AsyncClient, request: Request) -> httpx.Response:
        """Send a request; once more on a new connection when the one kept alive was
        closed by the app (uvicorn closes it after an error), never after a timeout."""
        import httpx

        for attempt in (1, 2):
            try:
                return await client.request(
                    request.method,
                    request.url,
                    json=request.json if request.has_body else None,
                    params=request.params or None,
                )
            except httpx.TimeoutException:
                raise
            except httpx.TransportError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def _timeout(self) -> float:
        return self.settings.request_seconds

    async def _started(
        self, client: httpx.AsyncClient, process: sandbox.Running, stderr: _Output
    ) -> bool:
        """Poll /health until it answers 200; a finding when the app exits or hangs."""
        import httpx

        deadline = time.monotonic() + self.settings.startup_seconds
        last_status = 0
        while True:
            self.cancel.raise_if_cancelled()
            if await _ended(process):
                await self._exited(process, stderr, "before answering /health")
                return False
            try:
                response = await client.get("/health", timeout=min(2.0, self._timeout))
                last_status = response.status_code
                if response.status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
        seconds = self.settings.startup_seconds
        if last_status >= 500:
            self._add(
                Finding(
                    check="health",
                    kind="status-5xx",
                    message=f"GET /health answered {last_status} for {seconds:g} s",
                    detail={"method": "GET", "path": "/health", "status": last_status},
                )
            )
            return False
        where = await self._stack(process, stderr)
        finding = Finding(
            check="health",
            kind="hang",
            message=(
                f"the app did not answer GET /health within {seconds:g} s"
                + (f" (last status {last_status})" if last_status else "")
            ),
            detail={"stack": stderr.text()} if where else {},
        )
        self._add(self._at(finding, where))
        return False

    async def _openapi(
        self, client: httpx.AsyncClient, process: sandbox.Running, stderr: _Output
    ) -> dict[str, Any] | None:
        import httpx

        try:
            response = await client.get("/openapi.json")
        except httpx.TransportError as error:
            if await _ended(process, grace=0.5):
                await self._exited(process, stderr, "while answering GET /openapi.json")
            else:
                self._add(
                    Finding(
                        check="health",
                        kind="timeout"
                        if isinstance(error, httpx.TimeoutException)
                        else "no-answer",
                        message=f"GET /openapi.json did not answer: {error!r}",
                    )
                )
            return None
        document: Any = None
        with contextlib.suppress(ValueError):
            document = response.json()
        if response.status_code >= 500 or not isinstance(document, dict):
            self._add(
                Finding(
                    check="health",
                    kind="status-5xx" if response.status_code >= 500 else "openapi",
                    message=f"GET /openapi.json answered {response.status_code}"
                    + ("" if isinstance(document, dict) else " without an OpenAPI document"),
                    detail={"method": "GET", "path": "/openapi.json"},
                )
            )
            return None
        return document

    async def _stack(self, process: sandbox.Running, stderr: _Output) -> tuple[str, int] | None:
        """Where a hanging app is: its threads' stacks (faulthandler, on SIGUSR1)."""
        if process.returncode is not None:
            return None
        before = stderr.count
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.5)
        return self._frame(stderr.since(before), innermost_last=False)

    # --- findings ----------------------------------------------------------------------

    async def _exited(self, process: sandbox.Running, stderr: _Output, when: str) -> None:
        await stderr.drained()
        tail = stderr.text()
        last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
        finding = Finding(
            check="health",
            kind="exited",
            message=f"the app exited with code {process.returncode} {when}"
            + (f": {last.strip()}" if last else ""),
            detail={"stderr": tail, "returncode": process.returncode},
        )
        self._add(self._at(finding, self._frame(tail, innermost_last=True)))

    def _frame(self, text: str, innermost_last: bool) -> tuple[str, int] | None:
        """The innermost frame of a traceback (or a stack dump) in the app's own files."""
        root = self.state.app_dir.resolve()
        frames = []
        for match in _FRAME.finditer(text):
            path = Path(match.group(1))
            with contextlib.suppress(ValueError, OSError):
                relative = path.resolve().relative_to(root).as_posix()
                frames.append((relative, int(match.group(2))))
        if not frames:
            return None
        return frames[-1] if innermost_last else frames[0]

    def _at(self, finding: Finding, where: tuple[str, int] | None) -> Finding:
        if where is None:
            return finding
        path, line = where
        return finding.model_copy(update={"file": path, "range": Span.lines(max(0, line - 1))})

    def _endpoint(
        self,
        operation: Operation,
        kind: str,
        what: str,
        status: int | None = None,
        sent: Any = None,
        url: str = "",
    ) -> None:
        requirement = operation.requirement_id
        file, span = "", None
        places = self.trace.code_of(requirement) if requirement else []
        routers = [p for p in places if p.path.startswith("app/routers/")] or places
        if routers:
            file, span = routers[0].path, routers[0].span
        detail: dict[str, object] = {"method": operation.method, "path": operation.path}
        if url:
            detail["url"] = url
        if status is not None:
            detail["status"] = status
        if sent is not None:
            detail["body"] = sent
        self._add(
            Finding(
                check="health",
                kind=kind,
                message=f"{operation.label} {what}",
                file=file,
                range=span,
                requirement_id=requirement,
                detail=detail,
            )
        )

    def _add(self, finding: Finding) -> None:
        self.result.findings.append(self.trace.locate(finding))


async def _ended(process: sandbox.Running, grace: float = 0.0) -> bool:
    """Whether the process has ended, waiting for that at most `grace` seconds."""
    if process.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), grace)
    return process.returncode is not None


class HealthCheck(Phase):
    number, key, name = 10, "health", "health verification"

    async def run(self, ctx: RunContext) -> PhaseOutcome:
        state = ctx.verify
        if state is None:
            return PhaseOutcome("failed", "no app to check: phase 7 did not run")

        async def progress(done: int, total: int, message: str) -> None:
            await ctx.bus.publish(
                PhaseProgressed(
                    run_id=ctx.run.id,
                    phase=self.number,
                    done=done,
                    total=total,
                    message=message,
                    percent=ctx.percent(self.number, done / total if total else 1.0),
                )
            )

        checker = HealthChecker(state, ctx.settings.verify, ctx.ir, ctx.cancel, progress)
        launched, state.launched = state.launched, None
        if launched is not None and launched.iteration != state.iteration:
            await launched.stop()  # started on files that a repair has changed since
            launched = None
        result = await checker.check(launched)
        state.report("health", result.findings, **result.figures())
        for finding in result.findings:
            await ctx.store.save_validation(
                ctx.run.id,
                finding.record(),
            )
        detail: dict[str, Any] = {
            **result.figures(),
            "findings": [f.model_dump(mode="json") for f in result.findings],
        }
        if not result.findings:
            return PhaseOutcome(
                "passed",
                f"{result.answered} of {result.endpoints} endpoints answered "
                f"in {result.seconds:.1f} s",
                detail,
            )
        first = result.findings[0]
        more = f" (and {len(result.findings) - 1} more)" if len(result.findings) > 1 else ""
        return PhaseOutcome(
            "failed",
            f"{len(result.findings)} finding(s): {first.line()}{more}",
            detail,
        )
