"""Issue 13, nothing lost at the edges: the tables and columns that reliability needs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Each part has a function of its own below (upgrade and downgrade), called in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.timeutil import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    _upgrade_dead_letters()
    _upgrade_outbox()
    _upgrade_leader()
    _upgrade_platform_state()
    _upgrade_retention()


def downgrade() -> None:
    _downgrade_retention()
    _downgrade_platform_state()
    _downgrade_leader()
    _downgrade_outbox()
    _downgrade_dead_letters()


# --- dead letters: updates and webhooks that failed deterministically ------------------------


def _upgrade_dead_letters() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", BIGINT_KEY, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("replayed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index("ix_dead_letters_source_key", "dead_letters", ["source", "key"], unique=False)


def _downgrade_dead_letters() -> None:
    op.drop_index("ix_dead_letters_source_key", table_name="dead_letters")
    op.drop_table("dead_letters")


# --- outbox: leases and deadlines -----------------------------------------------------------


def _upgrade_outbox() -> None:
    # The fencing token of a lease (bridge/outbox/lease.py): grows by one at every lease, and
    # recording an outcome or extending a lease checks it.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("lease_token", sa.Integer(), nullable=False, server_default="0")
        )


def _downgrade_outbox() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_token")


# --- leader: the lease that fences an old leader --------------------------------------------


def _upgrade_leader() -> None:
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("holder_pid", sa.Integer(), nullable=True),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )


def _downgrade_leader() -> None:
    op.drop_table("leader_lease")


# --- platform state that lived in memory (Facebook sent log, VK denied customers) -------------


def _upgrade_platform_state() -> None:
    """Nothing to add: Messenger's read receipts resolve through `sent_messages` (joined to the
    reply's conversation and customer), VK's denied customers are `customers.reachable`."""


def _downgrade_platform_state() -> None:
    """Nothing was added (see `_upgrade_platform_state`)."""


# --- retention: what the cleanup jobs need --------------------------------------------------


def _upgrade_retention() -> None:
    # The outbox job deletes finished rows by `done_at` in small batches: without an index each
    # batch would scan the whole table.
    op.create_index("ix_outbox_done_at", "outbox", ["done_at"], unique=False)


def _downgrade_retention() -> None:
    op.drop_index("ix_outbox_done_at", table_name="outbox")
