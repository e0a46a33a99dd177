"""Start-up: building the server and its features imports neither the engine nor
pydantic; they are imported after the initialize reply (`WARM_UP`)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("specloom.spec.compiler", "specloom.ir", "specloom.pipeline", "specloom.store")
HEAVY_PACKAGES = ("pydantic", "sqlalchemy", "alembic", "networkx")

PROBE = """
import json, sys
from specloom_lsp.cli import parser
from specloom_lsp.server import FEATURES, create_server
server = create_server()
print(json.dumps({"modules": sorted(sys.modules), "features": server.features}))
"""


def test_creating_the_server_imports_no_engine_and_no_pydantic() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout)
    assert set(loaded["features"].values()) == {"ok"}, loaded["features"]
    modules: list[str] = loaded["modules"]
    heavy = [
        m
        for m in modules
        if m in HEAVY
        or m.startswith(tuple(f"{h}." for h in HEAVY))
        or m.split(".")[0] in HEAVY_PACKAGES
    ]
    assert heavy == [], "imported before initialize: " + ", ".join(heavy[:20])
