"""An entry of the audit log, as the run store reads it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField


class AuditEntry(BaseModel):
    id: int
    run_id: str | None
    action: str
    detail: dict[str, Any] = PydanticField(default_factory=dict)
    at: datetime
