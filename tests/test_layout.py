"""The project's layout rules: the engine never depends on the language server."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "core" / "specloom"
SERVER_ONLY = frozenset({"pygls", "lsprotocol", "specloom_lsp"})
DYNAMIC_IMPORTS = frozenset({"__import__", "import_module"})

IMPORT_ALL_ENGINE_MODULES = textwrap.dedent(
    """
    import importlib
    import json
    import pkgutil
    import sys

    import specloom

    def fail(name):
        raise ImportError(f"cannot walk {name}")

    imported = ["specloom"]
    for module in pkgutil.walk_packages(specloom.__path__, "specloom.", onerror=fail):
        importlib.import_module(module.name)
        imported.append(module.name)

    forbidden = {name.partition(".")[0] for name in sys.modules} & set(sys.argv[1:])
    print(json.dumps({"imported": imported, "forbidden": sorted(forbidden)}))
    """
)


def _engine_sources() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def _dynamic_import_target(node: ast.Call) -> str | None:
    """The module named by `__import__("x")` or `importlib.import_module("x")`, if any."""
    func = node.func
    is_import_call = (isinstance(func, ast.Name) and func.id in DYNAMIC_IMPORTS) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    if is_import_call and node.args and isinstance(node.args[0], ast.Constant):
        target = node.args[0].value
        return target if isinstance(target, str) else None
    return None


def _imported_top_level_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
        elif isinstance(node, ast.Call) and (target := _dynamic_import_target(node)):
            names.add(target.partition(".")[0])
    return names


def test_importing_every_engine_module_loads_no_language_server_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_ENGINE_MODULES, *sorted(SERVER_ONLY)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"importing the engine failed:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "specloom.ir" in report["imported"]
    assert report["forbidden"] == [], (
        f"importing core/specloom loaded {report['forbidden']}; "
        "only server/specloom_lsp may import them"
    )


def test_no_engine_source_imports_language_server_code() -> None:
    sources = _engine_sources()
    assert sources, f"no Python files found under {ENGINE}"
    offenders = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found = _imported_top_level_names(tree) & SERVER_ONLY
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(sorted(found))}")
    assert offenders == [], "the engine imports server-only packages:\n" + "\n".join(offenders)


def test_pyproject_declares_the_specloom_console_script() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        pyproject = tomllib.load(file)
    scripts = pyproject["project"]["scripts"]
    assert scripts.get("specloom") == "specloom.cli:main"
