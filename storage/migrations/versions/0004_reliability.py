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

from storage.timeutil import UTCDateTime  # noqa: F401

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
    pass


def _downgrade_dead_letters() -> None:
    pass


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
    pass


def _downgrade_leader() -> None:
    pass


# --- platform state that lived in memory (Facebook sent log, VK denied customers) -------------


def _upgrade_platform_state() -> None:
    pass


def _downgrade_platform_state() -> None:
    pass


# --- retention: what the cleanup jobs need --------------------------------------------------


def _upgrade_retention() -> None:
    pass


def _downgrade_retention() -> None:
    pass
