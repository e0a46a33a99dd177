"""Lets the tests import `slow_pipeline`, the test stand-in for a slow phase 6."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
