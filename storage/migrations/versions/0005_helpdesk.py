"""Issue 15, the helpdesk: working hours, SLA clocks, ratings, and reminders sent once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Columns are only added (SQLite adds them in place): a CHECK constraint would make SQLite
rebuild `conversations`, and dropping the old table cascades its messages away. The rating's
range (1-5) is kept by the code that stores it (storage/helpdesk.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.timeutil import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("outside_hours", sa.Boolean(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("sla_from", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("first_reply_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("close_reason", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("rated_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("offline_notice_at", UTCDateTime(), nullable=True))
    op.create_table(
        "reminders",
        sa.Column("id", BIGINT_KEY, nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("wait", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reminders_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "conversation_id", "kind", "wait", name=op.f("uq_reminders_conversation_id_kind_wait")
        ),
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place on both backends (SQLite 3.35+): a batch rebuild
    # would drop `conversations` and cascade its messages away.
    op.drop_table("reminders")
    op.execute("ALTER TABLE customers DROP COLUMN offline_notice_at")
    for column in (
        "rated_at",
        "rating_comment",
        "rating",
        "close_reason",
        "first_reply_at",
        "sla_from",
        "outside_hours",
    ):
        op.execute(f"ALTER TABLE conversations DROP COLUMN {column}")
