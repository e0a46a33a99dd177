"""The VS Code extension (editor-clients/vscode): lint, unit tests, type check, the
.vsix, and the integration test that drives the real server from Node as VS Code does.

`npm ci` runs first when node_modules is missing (it needs the npm registry once).
Skipped when there is no `node` or `npm`, unless SPECLOOM_REQUIRE_EDITORS=1 (CI), which
makes that a failure. The manifest's settings are checked against the server's
`Settings` without Node.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "editor-clients" / "vscode"
MAX_VSIX_BYTES = 2 * 1024 * 1024
NPM_CI_TIMEOUT = 600
STEP_TIMEOUT = 300


def _tools() -> str:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        reason = "node and npm are not installed (Node 20 or later)"
        if os.environ.get("SPECLOOM_REQUIRE_EDITORS") == "1":
            pytest.fail(f"{reason}, and SPECLOOM_REQUIRE_EDITORS=1")
        pytest.skip(reason)
    return npm


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "SPECLOOM_PYTHON": sys.executable,
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "CI": "1",  # vitest: no watch mode
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }
    env.pop("SPECLOOM_TRUST", None)
    return env


def _start(npm: str, *args: str) -> subprocess.Popen[str]:
    """`npm ARGS` in the extension's folder, in a process group of its own (a timeout
    ends npm and what it started: vitest, eslint, the language server)."""
    return subprocess.Popen(
        [npm, *args],
        cwd=EXTENSION,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    """The exit status and output of `process`; -1 when it did not end in time."""
    try:
        out, _ = process.communicate(timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return -1, f"timed out after {timeout:.0f} s\n{out}"
    return process.returncode, out


def _npm(npm: str, *args: str, timeout: float = STEP_TIMEOUT) -> tuple[str, float]:
    """Runs `npm ARGS`; fails the test with its output when it fails or times out.
    Returns the output and the seconds it took."""
    clock = time.perf_counter()
    status, out = _finish(_start(npm, *args), timeout)
    seconds = time.perf_counter() - clock
    output = f"$ npm {' '.join(args)}  ({seconds:.1f} s)\n{out}"
    print(output[-4000:])
    assert status == 0, output
    return output, seconds


@pytest.fixture(scope="module")
def npm() -> str:
    """npm, with the extension's node_modules installed (`npm ci` when missing)."""
    npm = _tools()
    if not (EXTENSION / "node_modules" / ".package-lock.json").is_file():
        _, seconds = _npm(npm, "ci", "--no-audit", "--no-fund", timeout=NPM_CI_TIMEOUT)
        print(f"npm ci took {seconds:.1f} s")
    return npm


def test_settings_mirror_the_server() -> None:
    """Every server setting is contributed as `specloom.<key>` with the server's
    default, and the extension's other settings are its own."""
    from specloom_lsp.config import Settings

    manifest = json.loads((EXTENSION / "package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]
    defaults = Settings()
    server_keys = set()
    for name, field in Settings.model_fields.items():
        key = field.alias or name
        server_keys.add(key)
        contributed = properties.get(f"specloom.{key}")
        assert contributed is not None, f"specloom.{key} is not contributed"
        assert contributed.get("default") == getattr(defaults, name), key
        assert contributed.get("markdownDescription") or contributed.get("description"), key
    own = {key.removeprefix("specloom.") for key in properties} - server_keys
    assert own == {"pythonPath", "serverArgs", "trace.server"}


@pytest.fixture(scope="module")
def checks(npm: str) -> dict[str, tuple[int, str, float]]:
    """`npm run lint`, `npm test` and `npm run typecheck`, at the same time: each one's
    exit status, output and seconds."""
    scripts = {"lint": ["run", "lint"], "unit": ["test"], "typecheck": ["run", "typecheck"]}
    clock = time.perf_counter()
    running = {name: _start(npm, *args) for name, args in scripts.items()}
    results: dict[str, tuple[int, str, float]] = {}
    for name, process in running.items():
        status, out = _finish(process, STEP_TIMEOUT - (time.perf_counter() - clock))
        results[name] = (status, out, time.perf_counter() - clock)
    for name, (status, out, seconds) in results.items():
        print(f"$ npm {' '.join(scripts[name])}: status {status}, {seconds:.1f} s\n{out[-3000:]}")
    return results


@pytest.mark.parametrize("name", ["lint", "unit", "typecheck"])
def test_check(checks: dict[str, tuple[int, str, float]], name: str) -> None:
    status, output, _ = checks[name]
    assert status == 0, output
    if name == "unit":
        assert re.search(r"Tests\s+\d+ passed", output), output


def test_package(npm: str, tmp_path: Path) -> None:
    """The .vsix builds offline (esbuild bundle, no node_modules inside) and is small."""
    vsix = tmp_path / "specloom.vsix"
    _npm(npm, "run", "package", "--", "--out", str(vsix))
    assert vsix.is_file()
    size = vsix.stat().st_size
    print(f".vsix size: {size} bytes ({size / 1024:.1f} KiB)")
    assert size < MAX_VSIX_BYTES
    names = zipfile.ZipFile(vsix).namelist()
    assert "extension/dist/extension.js" in names
    assert "extension/package.json" in names
    assert not [name for name in names if "node_modules" in name or name.endswith(".ts")]


def test_integration_with_the_real_server(npm: str) -> None:
    """server.test.ts drives the server with vscode-languageserver-protocol as VS Code
    does; extension.test.ts activates the bundled extension against a stand-in `vscode`
    module and the real server."""
    output, seconds = _npm(npm, "run", "test:integration")
    tests = re.search(r"Tests\s+(\d+) passed(.*)", output)
    assert tests is not None, output
    assert int(tests.group(1)) >= 10, output
    assert "failed" not in tests.group(2), output
    assert "skipped" not in tests.group(2), output
    print(f"integration tests took {seconds:.1f} s")
