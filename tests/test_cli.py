"""The `specloom` console script, run as a user runs it: in a subprocess.

`specloom check SPEC [--json] [--ir]` prints diagnostics (`file:line:col: severity code
message`, 1-based) and a model summary; it exits 0 without errors, 1 with errors and 2
when the file cannot be read.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from specloom import __version__
from specloom.ir.application import ApplicationIR
from specloom.spec.compiler import compile_spec

ROOT = Path(__file__).resolve().parents[1]
SPECLOOM = Path(sys.executable).parent / "specloom"
LIBRARY = "examples/library.spec.md"
DIAGNOSTIC_LINE = re.compile(
    r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): "
    r"(?P<severity>error|warning|information|hint) (?P<code>SL\d{3}) (?P<message>.+)$"
)
BAD_SPEC = """\
# Shop

## Entities

### Item
- name: strnig, required
- price: decimal(8,2), > 0
"""


def specloom(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    return subprocess.run(
        [str(SPECLOOM), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def assert_no_traceback(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stdout
    assert "Traceback" not in run.stderr


@pytest.fixture
def bad_spec(tmp_path: Path) -> Path:
    path = tmp_path / "shop.spec.md"
    path.write_text(BAD_SPEC, encoding="utf-8")
    return path


def test_console_script_is_installed() -> None:
    assert SPECLOOM.exists(), f"no console script at {SPECLOOM}: pip install -e ."


def test_check_a_clean_spec() -> None:
    run = specloom("check", LIBRARY)
    assert run.returncode == 0, run.stdout + run.stderr
    assert_no_traceback(run)
    lines = run.stdout.splitlines()
    assert lines[-1] == "0 errors, 0 warnings"
    assert not [line for line in lines if DIAGNOSTIC_LINE.match(line)]
    assert f"Library Lending — {LIBRARY}" in run.stdout
    entities = next(line for line in lines if line.strip().startswith("entities"))
    for name in ("Book", "Member", "Loan"):
        assert name in entities
    assert re.search(r"endpoints\s+10\b", run.stdout)
    assert run.stderr == ""


def test_check_a_spec_with_an_error(bad_spec: Path) -> None:
    run = specloom("check", bad_spec)
    assert run.returncode == 1, run.stdout + run.stderr
    assert_no_traceback(run)
    diagnostics = [m for line in run.stdout.splitlines() if (m := DIAGNOSTIC_LINE.match(line))]
    assert diagnostics, run.stdout
    assert all(m["file"] == str(bad_spec) for m in diagnostics)
    # the unknown type on line 6: 1-based line and column of 'strnig'
    column = BAD_SPEC.splitlines()[5].index("strnig") + 1
    error = next(m for m in diagnostics if m["code"] == "SL201")
    assert (error["line"], error["column"], error["severity"]) == ("6", str(column), "error")
    line = error.group(0)
    assert line.startswith(f"{bad_spec}:6:{column}: error SL201 unknown type 'strnig'")
    assert "'string'" in error["message"]
    summary = run.stdout.splitlines()[-1]
    assert re.fullmatch(r"1 error, \d+ warnings?(, \d+ information)?", summary), summary


def test_check_json_on_a_clean_spec() -> None:
    run = specloom("check", LIBRARY, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    payload = json.loads(run.stdout)
    assert payload["file"] == LIBRARY
    assert payload["ok"] is True
    assert payload["diagnostics"] == []
    summary = payload["summary"]
    assert summary["name"] == "Library Lending"
    assert [e["name"] for e in summary["entities"]] == ["Book", "Member", "Loan"]
    assert summary["endpoints"] == 10
    assert (summary["errors"], summary["warnings"]) == (0, 0)
    assert "ir" not in payload


def test_check_json_on_a_spec_with_an_error(bad_spec: Path) -> None:
    run = specloom("check", bad_spec, "--json")
    assert run.returncode == 1
    payload = json.loads(run.stdout)
    assert payload["ok"] is False
    assert payload["summary"]["errors"] >= 1
    error = next(d for d in payload["diagnostics"] if d["code"] == "SL201")
    assert error["severity"] == "error"
    assert "strnig" in error["message"]
    # JSON ranges are 0-based, as in the Language Server Protocol
    column = BAD_SPEC.splitlines()[5].index("strnig")
    assert error["range"]["start"] == {"line": 5, "column": column}
    assert error["range"]["end"] == {"line": 5, "column": column + len("strnig")}


def test_check_json_with_ir() -> None:
    run = specloom("check", LIBRARY, "--json", "--ir")
    assert run.returncode == 0, run.stdout + run.stderr
    payload = json.loads(run.stdout)
    ir = ApplicationIR.model_validate(payload["ir"])
    assert [entity.name for entity in ir.domain.entities] == ["Book", "Member", "Loan"]
    expected = compile_spec((ROOT / LIBRARY).read_bytes(), source=LIBRARY).ir
    assert ir == expected
    assert payload["diagnostics"] == []


def test_missing_file_exits_2() -> None:
    run = specloom("check", "examples/no-such.spec.md")
    assert run.returncode == 2
    assert "examples/no-such.spec.md" in run.stderr
    assert "cannot read" in run.stderr
    assert run.stdout == ""
    assert_no_traceback(run)


def test_directory_instead_of_a_file_exits_2() -> None:
    run = specloom("check", "examples")
    assert run.returncode == 2
    assert "cannot read" in run.stderr
    assert_no_traceback(run)


def test_version() -> None:
    run = specloom("--version")
    assert run.returncode == 0
    assert run.stdout.strip() == f"specloom {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_binary_garbage_exits_1_with_sl100(tmp_path: Path, as_json: bool) -> None:
    path = tmp_path / "garbage.spec.md"
    path.write_bytes(random.Random(7).randbytes(20_000) + b"\x00\xff\xfe")
    run = specloom("check", path, *(["--json"] if as_json else []))
    assert run.returncode == 1
    assert_no_traceback(run)
    if as_json:
        payload = json.loads(run.stdout)
        assert "SL100" in {d["code"] for d in payload["diagnostics"]}
    else:
        codes = {
            m["code"] for line in run.stdout.splitlines() if (m := DIAGNOSTIC_LINE.match(line))
        }
        assert "SL100" in codes
        assert f"{path}:1:1: error SL100 " in run.stdout
