"""Pacing rows keep a window log: the last N reserved slots of a window bucket (a group).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

tests/storage/test_migrate.py proves the schema still matches storage.models (no drift) on
both backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pacing") as batch:
        batch.add_column(sa.Column("window_log", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pacing") as batch:
        batch.drop_column("window_log")
