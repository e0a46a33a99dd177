"""The warm interpreter: a command forked from it behaves as the same command started in
a new interpreter (exit codes, `-m`, its directory on sys.path, what it writes), starts
without importing the libraries again, and the zygote does not outlive its user."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from specloom.verify import sandbox, warm

from tests.verify.test_sandbox import running


async def both(code: str, cwd: Path, *args: str) -> tuple[sandbox.Completed, sandbox.Completed]:
    argv = [sys.executable, "-c", code, *args]
    return await sandbox.run(argv, cwd), await sandbox.run(argv, cwd, warm=True)


@pytest.mark.parametrize(
    ("code", "returncode"),
    [
        ("import sys; sys.exit(3)", 3),
        ("raise SystemExit('stopped by the app')", 1),
        ("raise ValueError('broken')", 1),
        ("print('fine')", 0),
    ],
)
async def test_a_forked_command_ends_as_a_new_interpreter_would(
    tmp_path: Path, code: str, returncode: int
) -> None:
    new, forked = await both(code, tmp_path)
    assert new.returncode == forked.returncode == returncode
    assert new.stdout == forked.stdout
    assert new.stderr.splitlines()[-1:] == forked.stderr.splitlines()[-1:]


async def test_a_forked_command_runs_in_its_directory_with_its_arguments(tmp_path: Path) -> None:
    (tmp_path / "helper_module.py").write_text("VALUE = 42\n", encoding="utf-8")
    (tmp_path / "runnable.py").write_text(
        "import sys\nprint('main', __name__, sys.argv[1:])\n", encoding="utf-8"
    )
    code = textwrap.dedent(
        """
        import os, sys, helper_module
        print(os.getcwd(), helper_module.VALUE, sys.argv[1:], __name__)
        """
    )
    new, forked = await both(code, tmp_path, "a", "b")
    assert forked.ok, forked.stderr
    assert forked.stdout == new.stdout == f"{tmp_path} 42 ['a', 'b'] __main__\n"
    argv = [sys.executable, "-m", "runnable", "x"]
    module = await sandbox.run(argv, tmp_path, warm=True)
    assert module.stdout == "main __main__ ['x']\n", module.stderr


async def test_a_forked_command_starts_with_the_libraries_imported(tmp_path: Path) -> None:
    code = "import sys; print('fastapi' in sys.modules, 'sqlalchemy' in sys.modules)"
    new, forked = await both(code, tmp_path)
    assert (new.stdout, forked.stdout) == ("False False\n", "True True\n")


async def test_warm_interpreters_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECLOOM_WARM", "0")
    done = await sandbox.run(
        [sys.executable, "-c", "import sys; print('fastapi' in sys.modules)"], tmp_path, warm=True
    )
    assert done.stdout == "False\n"


async def test_a_zygote_that_died_is_replaced(tmp_path: Path) -> None:
    zygote = await warm.ready(sys.executable)
    assert zygote is not None
    assert zygote.process is not None
    zygote.process.kill()
    zygote.process.wait()
    done = await sandbox.run(
        [sys.executable, "-c", "import sys; print('fastapi' in sys.modules)"], tmp_path, warm=True
    )
    assert done.stdout == "True\n"
    assert warm.prepare(sys.executable) is not zygote


def test_the_zygote_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys, time
        from specloom.verify import warm

        async def main():
            zygote = await warm.ready(sys.executable)
            print(zygote.process.pid, flush=True)

        asyncio.run(main())
        import os
        os._exit(0)  # no clean-up at exit: the zygote must notice on its own
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pid)


async def test_a_terminated_zygote_takes_its_commands_with_it(tmp_path: Path) -> None:
    zygote = await warm.ready(sys.executable)
    assert zygote is not None
    assert zygote.process is not None
    child = await sandbox.start(
        [sys.executable, "-c", "import time; time.sleep(120)"], tmp_path, warm=True
    )
    assert running(child.pid)
    zygote.process.terminate()
    zygote.process.wait(10)
    deadline = time.monotonic() + 10
    while running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child.pid)
