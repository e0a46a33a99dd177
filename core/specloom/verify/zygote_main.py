"""The warm interpreter's own program: it imports the libraries generated apps use once,
then forks a child for each command it is sent, so that a check's process starts with
FastAPI, SQLAlchemy, pytest and uvicorn already imported instead of importing them anew
(about a second each time).

It runs in the app's interpreter, which may not have specloom: `specloom.verify.warm`
passes this file's text with `python -c` (stdlib only, no imports of specloom), with the
sandbox's clean environment, in a session of its own:

    python -c <this text> SOCKET MEMORY_MB MODULE...

It imports the MODULEs (one that fails to import is left out), listens on the Unix
socket SOCKET, and writes `ready` on its standard output. Each connection asks for one
command: an 8-byte length and three file descriptors (the command's stdin, stdout and
stderr) in one message, then that many bytes of JSON: `argv` (`["-c", CODE, ...]` or
`["-m", MODULE, ...]`), `cwd`, `env`, `memory_mb`. The answer on the connection is
`pid N` when the child is forked, then `exit CODE` when it ends (a negative code: killed
by that signal). The child is what `python ARGV...` in `cwd` with `env` would be: its
own session, the given environment only, sys.path[0] its directory, the memory limit.

When its standard input closes (the process that started it is gone), or on SIGTERM,
it kills its children's process groups and exits. Never imported by specloom itself.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import resource
import runpy
import selectors
import signal
import socket
import struct
import sys
import traceback
import types
from typing import Any

HEADER = struct.Struct("!Q")


def _limit_memory(memory_mb: int) -> None:
    size = memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _address = socket.recv_fds(conn, HEADER.size, 3)
    while len(data) < HEADER.size:
        more = conn.recv(HEADER.size - len(data))
        if not more:
            raise EOFError("the request ended early")
        data += more
    (length,) = HEADER.unpack(data)
    body = b""
    while len(body) < length:
        more = conn.recv(min(65536, length - len(body)))
        if not more:
            raise EOFError("the request ended early")
        body += more
    if len(fds) != 3:
        raise ValueError(f"3 file descriptors expected, {len(fds)} received")
    return json.loads(body), fds


def _exit_code(error: SystemExit) -> int:
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def _run(request: dict[str, Any]) -> int:
    """In the child: become `python ARGV...` and run to the end; the exit code."""
    argv = [str(arg) for arg in request["argv"]]
    cwd = str(request["cwd"])
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    # what the interpreter reads from these two at start-up, a fork must set itself
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    sys.pycache_prefix = os.environ.get("PYTHONPYCACHEPREFIX") or None
    _limit_memory(int(request["memory_mb"]))
    sys.path[0] = cwd
    try:
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            main = types.ModuleType("__main__")
            sys.modules["__main__"] = main
            exec(compile(argv[1], "<string>", "exec"), main.__dict__)
        elif argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            print(f"zygote: cannot run {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    except SystemExit as error:
        return _exit_code(error)
    except BaseException:
        traceback.print_exc()
        return 1


def _child(request: dict[str, Any], fds: list[int], inherited: list[Any]) -> None:
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for thing in inherited:
            with contextlib.suppress(Exception):
                thing.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in set(fds):
            if fd > 2:
                os.close(fd)
        code = _run(request)
        with contextlib.suppress(Exception):
            atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _send(conn: socket.socket, line: str) -> bool:
    try:
        conn.sendall(line.encode("ascii") + b"\n")
        return True
    except OSError:
        return False


def serve(path: str, memory_mb: int, preload: list[str]) -> None:
    _limit_memory(memory_mb)
    for name in preload:
        with contextlib.suppress(Exception):
            __import__(name)
    # what is imported now lives as long as every child: out of the collector's sight, a
    # child's collections skip it (and its pages stay shared with the zygote's)
    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "listener")
    selector.register(wake_r, selectors.EVENT_READ, "wake")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "parent")
    children: dict[int, socket.socket] = {}

    def terminated(_signal: int, _frame: object) -> None:
        # stopped on purpose: the commands it forked (an app, a suite) go with it
        _kill_all(children)
        os._exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, terminated)
    print("ready", flush=True)
    while True:
        for key, _events in selector.select():
            if key.data == "listener":
                conn, _ = listener.accept()
                try:
                    request, fds = _receive(conn)
                except (OSError, EOFError, ValueError) as error:
                    _send(conn, f"error {type(error).__name__}: {error}")
                    conn.close()
                    continue
                inherited = [listener, wake_r, wake_w, selector, conn, *children.values()]
                pid = os.fork()
                if pid == 0:
                    _child(request, fds, inherited)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn  # known before anyone hears of it (SIGTERM)
                if not _send(conn, f"pid {pid}"):
                    children.pop(pid, None)
                    conn.close()
            elif key.data == "wake":
                with contextlib.suppress(OSError):
                    while wake_r.recv(4096):
                        pass
            elif key.data == "parent" and not os.read(sys.stdin.fileno(), 4096):
                _kill_all(children)
                return
        _reap(children)


def _kill_all(children: dict[int, socket.socket]) -> None:
    """Kill every child with its process group (and itself, should it not have made
    its own group yet)."""
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            _send(conn, f"exit {os.waitstatus_to_exitcode(status)}")
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
