"""The stores' drivers load only when a store that needs them opens: importing the
engine, the backends package and `specloom doctor`'s module loads none of them (nor
the run store's SQLAlchemy)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

DRIVERS = ("redis", "neo4j", "qdrant_client", "qdrant_edge", "grpc", "sqlalchemy")

IMPORT_BACKENDS = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    import specloom
    import specloom.backends
    import specloom.doctor

    for module in pkgutil.walk_packages(specloom.backends.__path__, "specloom.backends."):
        importlib.import_module(module.name)
    loaded = {name.partition(".")[0] for name in sys.modules}
    print(json.dumps(sorted(loaded & set(sys.argv[1:]))))
    """
)


def test_importing_the_backends_loads_no_driver() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_BACKENDS, *DRIVERS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
