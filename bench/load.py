"""Load on one server: N editors over WebSocket at once, each editing its own spec and
running generate.

    .venv/bin/python -m bench load [--clients 4] [--edits 20] [--trust]

One `specloom lsp --ws` process (with a token) serves every client. Each client opens
`examples/todo.spec.md` in a workspace of its own, makes `--edits` one-character edits
(didChange, waiting for that version's diagnostics), then runs `specloom.generate`
(untrusted unless `--trust`). Reported: runs per second over the whole load, the
p50/p95 of didChange to diagnostics under load (debounce 0), each generate's time,
the server's peak resident memory, and the checks that nothing was lost: every run is
recorded in its workspace's run store, and every workspace has its app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import stats

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = "bench-load-token-0123456789abcdef"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Client:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.ids = 0
        self.diagnostics: dict[int, asyncio.Future[float]] = {}
        self.replies: dict[int, asyncio.Future[Any]] = {}
        self.reader = asyncio.ensure_future(self.read())

    async def read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if "method" in message and "id" in message:  # a request of the server
                answer = None
                if message["method"] == "workspace/configuration":
                    answer = [{"debounceMs": 0}] * len(message["params"]["items"])
                await self.connection.send(
                    json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": answer})
                )
            elif message.get("method") == "textDocument/publishDiagnostics":
                version = message["params"].get("version")
                waiter = self.diagnostics.pop(version, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(time.perf_counter())
            elif "id" in message:
                waiter = self.replies.pop(message["id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)

    async def request(self, method: str, params: Any, timeout: float = 600) -> Any:
        self.ids += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.replies[self.ids] = future
        await self.connection.send(
            json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        )
        return await asyncio.wait_for(future, timeout)

    async def notify(self, method: str, params: Any) -> None:
        await self.connection.send(
            json.dumps({"jsonrpc": "2.0", "method": method, "params": params})
        )


async def one_client(port: int, workspace: Path, edits: int, trust: bool) -> dict[str, Any]:
    import websockets

    spec = workspace / "todo.spec.md"
    text = spec.read_text(encoding="utf-8")
    uri = spec.as_uri()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with websockets.connect(
        f"ws://127.0.0.1:{port}", additional_headers=headers, max_size=None
    ) as connection:
        client = Client(connection)
        options = {"debounceMs": 0, "trust": trust}
        await client.request(
            "initialize",
            {"capabilities": {}, "rootUri": workspace.as_uri(), "initializationOptions": options},
        )
        await client.notify("initialized", {})
        item = {"uri": uri, "languageId": "markdown", "version": 1, "text": text}
        await client.notify("textDocument/didOpen", {"textDocument": item})
        latencies: list[float] = []
        lines = text.splitlines()
        line = next(i for i, row in enumerate(lines) if row.startswith("### ")) + 1
        for n in range(edits):
            version = n + 2
            waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            client.diagnostics[version] = waiter
            # one character typed at the start of the line after an entity heading, then
            # taken back
            end = 0 if n % 2 == 0 else 1
            change: dict[str, Any] = {
                "range": {
                    "start": {"line": line, "character": 0},
                    "end": {"line": line, "character": end},
                },
                "text": "x" if n % 2 == 0 else "",
            }
            began = time.perf_counter()
            await client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            )
            latencies.append((await asyncio.wait_for(waiter, 60) - began) * 1000)
        began = time.perf_counter()
        reply = await client.request(
            "workspace/executeCommand", {"command": "specloom.generate", "arguments": [uri]}
        )
        generate_ms = (time.perf_counter() - began) * 1000
        await client.request("shutdown", None)
        await client.notify("exit", None)
        client.reader.cancel()
    result = reply.get("result") or {}
    return {
        "latencies": latencies,
        "generate_ms": generate_ms,
        "run_id": result.get("id"),
        "status": result.get("status"),
        "error": reply.get("error"),
    }


def recorded(workspace: Path, run_id: str | None) -> bool:
    database = workspace / ".specloom" / "specloom.db"
    if run_id is None or not database.exists():
        return False
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return row is not None


async def load(clients: int, edits: int, trust: bool) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    workspaces = []
    for n in range(clients):
        workspace = work / f"editor{n + 1}"
        workspace.mkdir()
        shutil.copy(EXAMPLES / "todo.spec.md", workspace / "todo.spec.md")
        workspaces.append(workspace)
    port = free_port()
    env = {**os.environ, "SPECLOOM_SERVER_TOKEN": TOKEN, "SPECLOOM_LEARNING": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "specloom_lsp", "--ws", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("w"),
    )
    peak = 0.0
    try:
        deadline = time.monotonic() + 30
        import socket

        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        began = time.perf_counter()
        running = asyncio.gather(*(one_client(port, w, edits, trust) for w in workspaces))
        while not running.done():
            peak = max(peak, rss_mb(server.pid))
            await asyncio.sleep(0.05)
        results = await running
        elapsed = time.perf_counter() - began
    finally:
        peak = max(peak, rss_mb(server.pid) if server.poll() is None else 0.0)
        server.terminate()
        server.wait(10)
    latencies = [ms for r in results for ms in r["latencies"]]
    generates = [r["generate_ms"] for r in results]
    lost = [
        str(w.name)
        for w, r in zip(workspaces, results, strict=True)
        if not recorded(w, r["run_id"]) or not (w / "todo-app" / "app" / "main.py").is_file()
    ]
    print(f"bench load: {clients} editors over WebSocket on one server, {edits} edits each, "
          f"{'trusted' if trust else 'untrusted'} generate; work in {work}")  # fmt: skip
    print(f"throughput: {clients / elapsed:.2f} runs/s ({clients} runs in {elapsed:.1f} s)")
    print(f"didChange to diagnostics under load: p50 {stats.median(latencies):.1f} ms, "
          f"p95 {stats.p95(latencies):.1f} ms ({len(latencies)} edits)")  # fmt: skip
    print(f"generate: p50 {stats.median(generates):.0f} ms, max {max(generates):.0f} ms; "
          f"statuses {sorted({str(r['status']) for r in results})}")  # fmt: skip
    print(f"server memory: peak resident {peak:.0f} MB")
    print(
        f"nothing lost: {'yes' if not lost else 'NO: ' + ', '.join(lost)} "
        f"(every run in its workspace's run store, every workspace with its app)"
    )
    return 0 if not lost else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--trust", action="store_true", help="generate with trust (phases 7-10)")
    args = parser.parse_args(argv)
    return asyncio.run(load(max(1, args.clients), max(0, args.edits), args.trust))
