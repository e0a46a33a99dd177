"""The infrastructure part of the IR: what the generated application runs on."""

from __future__ import annotations

from typing import Literal

from specloom.ir.common import Node


class InfrastructureModel(Node):
    """Defaults of the generated application; the app's DATABASE_URL overrides the database."""

    framework: Literal["fastapi"] = "fastapi"
    database: Literal["sqlite", "postgresql"] = "sqlite"
    default_page_size: int = 20
    python: str = "3.11"
