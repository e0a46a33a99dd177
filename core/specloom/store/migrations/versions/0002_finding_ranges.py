"""Findings keep where they are: the range in the generated file and the range of the
requirement in the spec.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("validation_results") as batch:
        batch.add_column(sa.Column("range", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("spec_range", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("validation_results") as batch:
        batch.drop_column("spec_range")
        batch.drop_column("range")
