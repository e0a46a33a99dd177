"""The Neovim plugin (editor-clients/nvim), end to end in a headless Neovim.

`editor-clients/nvim/tests/e2e.lua` opens a copy of examples/todo.spec.md with the
plugin set up (`trust = false`), waits for the server's diagnostics and code lenses,
runs :SpecloomGenerate, and checks the generated files on disk, the progress messages
and the run events (then generates again: no conflict). Skipped when there is no
`nvim`, unless SPECLOOM_REQUIRE_EDITORS=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editor-clients" / "nvim"
SCRIPT = PLUGIN / "tests" / "e2e.lua"
TIMEOUT = 300


def _nvim() -> str:
    nvim = os.environ.get("SPECLOOM_NVIM") or shutil.which("nvim")
    if nvim is None:
        reason = "nvim is not installed (apt-get install neovim)"
        if os.environ.get("SPECLOOM_REQUIRE_EDITORS") == "1":
            pytest.fail(f"{reason}, and SPECLOOM_REQUIRE_EDITORS=1")
        pytest.skip(reason)
    return nvim


def _run(nvim: str, tmp_path: Path, route: str = "setup") -> tuple[int, str, float]:
    env = {
        **os.environ,
        "SPECLOOM_PYTHON": sys.executable,
        "SPECLOOM_REPO": str(REPO),
        "SPECLOOM_E2E_WORKSPACE": str(tmp_path / "workspace"),
        "SPECLOOM_E2E_LOG": str(tmp_path / "server.log"),
        "SPECLOOM_E2E_ROUTE": route,
    }
    env.pop("SPECLOOM_TRUST", None)
    command = [
        nvim,
        "--headless",
        "-u",
        "NONE",
        "-i",
        "NONE",
        "--cmd",
        f"set rtp^={PLUGIN}",
        "-c",
        f"luafile {SCRIPT}",
    ]
    clock = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        out = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else error.stdout
        pytest.fail(f"nvim did not finish in {TIMEOUT} s:\n{out or ''}")
    seconds = time.perf_counter() - clock
    output = f"$ {' '.join(command)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    log = tmp_path / "server.log"
    if done.returncode != 0 and log.is_file():
        output += "\n--- server log (end)\n" + log.read_text(errors="replace")[-6000:]
    return done.returncode, output, seconds


def _version(nvim: str) -> tuple[int, int]:
    first = subprocess.run(
        [nvim, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.splitlines()[0]
    major, minor = first.split("v", 1)[1].split(".")[:2]
    return int(major), int(minor)


def test_generate_in_headless_neovim(tmp_path: Path) -> None:
    nvim = _nvim()
    status, output, seconds = _run(nvim, tmp_path)
    print(output)
    print(f"e2e took {seconds:.1f} s")
    assert status == 0, output
    assert "e2e: all checks passed" in output
    assert (tmp_path / "workspace" / "todo-app" / "app" / "main.py").is_file()


def test_lsp_enable_route(tmp_path: Path) -> None:
    """lsp/specloom.lua with `vim.lsp.enable` (Neovim 0.11 and later)."""
    nvim = _nvim()
    if _version(nvim) < (0, 11):
        pytest.skip("vim.lsp.enable needs Neovim 0.11 (SPECLOOM_NVIM=/path/to/nvim)")
    status, output, seconds = _run(nvim, tmp_path, route="enable")
    print(output)
    print(f"e2e took {seconds:.1f} s")
    assert status == 0, output
    assert "e2e: all checks passed" in output
