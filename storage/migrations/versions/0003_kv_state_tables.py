"""Real tables for what the key-value table held: sent ids, customer copies, operator groups,
the storm digest state; existing rows are carried over and removed from `kv`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

| `kv` key (value)                                   | now                                    |
|----------------------------------------------------|----------------------------------------|
| `sent:<platform>:<id>` (our message id)            | `sent_messages`                        |
| `copies:<message id>` (JSON list of copies)        | `customer_copies`, one row per copy    |
| `operator:groups:<user id>` (JSON list of names)   | `operator_groups`, one row per group   |
| `feed:digest:<group>` (JSON `{next, digests}`)     | `feed_states` + `feed_digests`         |

Rows that point at a message no longer stored are dropped (nothing could use them); a value
that is not what the code wrote is left in `kv` and logged. `kv` keeps the poll cursors, the
dashboards' message ids and one-off hints. The downgrade writes the rows back into `kv`.
tests/storage/test_migrate.py runs this on old-style rows on both backends.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.timeutil import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SENT, COPIES, GROUPS, DIGEST = "sent:", "copies:", "operator:groups:", "feed:digest:"

# Lightweight views of the tables the data moves between (as of this revision).
kv = sa.table(
    "kv",
    sa.column("key", sa.String),
    sa.column("value", sa.Text),
    sa.column("updated_at", UTCDateTime),
)
messages = sa.table("messages", sa.column("id", sa.BigInteger))
sent_messages = sa.table(
    "sent_messages",
    sa.column("platform", sa.String),
    sa.column("external_id", sa.String),
    sa.column("message_id", sa.BigInteger),
    sa.column("created_at", UTCDateTime),
)
customer_copies = sa.table(
    "customer_copies",
    sa.column("id", sa.BigInteger),
    sa.column("message_id", sa.BigInteger),
    sa.column("chat", sa.String),
    sa.column("platform_message_id", sa.String),
    sa.column("form", sa.String),
    sa.column("created_at", UTCDateTime),
)
operator_groups = sa.table(
    "operator_groups",
    sa.column("operator_id", sa.BigInteger),
    sa.column("group", sa.String),
    sa.column("created_at", UTCDateTime),
)
feed_states = sa.table(
    "feed_states",
    sa.column("group", sa.String),
    sa.column("next_digest", sa.Integer),
    sa.column("updated_at", UTCDateTime),
)
feed_digests = sa.table(
    "feed_digests",
    sa.column("group", sa.String),
    sa.column("n", sa.Integer),
    sa.column("message_id", sa.BigInteger),
    sa.column("posting", sa.Boolean),
    sa.column("version", sa.Integer),
    sa.column("entries", JSON_TYPE),
)


def upgrade() -> None:
    op.create_table(
        "sent_messages",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_sent_messages_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform", "external_id", name=op.f("pk_sent_messages")),
    )
    op.create_index("ix_sent_messages_message_id", "sent_messages", ["message_id"], unique=False)
    op.create_table(
        "customer_copies",
        sa.Column("id", BIGINT_KEY, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("chat", sa.String(length=255), nullable=False),
        sa.Column("platform_message_id", sa.String(length=255), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "form IN ('text', 'caption', 'other')", name=op.f("ck_customer_copies_form")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_customer_copies_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_copies")),
        sa.UniqueConstraint(
            "message_id",
            "chat",
            "platform_message_id",
            name=op.f("uq_customer_copies_message_id_chat_platform_message_id"),
        ),
    )
    op.create_table(
        "operator_groups",
        sa.Column("operator_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("group", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "group", name=op.f("pk_operator_groups")),
    )
    op.create_table(
        "feed_states",
        sa.Column("group", sa.String(length=128), nullable=False),
        sa.Column("next_digest", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group", name=op.f("pk_feed_states")),
    )
    op.create_table(
        "feed_digests",
        sa.Column("group", sa.String(length=128), nullable=False),
        sa.Column("n", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("posting", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entries", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("group", "n", name=op.f("pk_feed_digests")),
    )
    _carry_over(op.get_bind())


def downgrade() -> None:
    _carry_back(op.get_bind())
    for table in (
        "feed_digests",
        "feed_states",
        "operator_groups",
        "customer_copies",
        "sent_messages",
    ):
        op.drop_table(table)


# ---- data ----------------------------------------------------------------------------------


def _kv_rows(bind: sa.Connection, prefix: str) -> list[tuple[str, str, datetime]]:
    rows = bind.execute(
        sa.select(kv.c.key, kv.c.value, kv.c.updated_at)
        .where(kv.c.key.startswith(prefix, autoescape=True))
        .order_by(kv.c.key)
    )
    return [(key[len(prefix) :], value, when) for key, value, when in rows]


def _carry_over(bind: sa.Connection) -> None:
    """Move the old-style `kv` rows into the new tables; delete the rows that moved."""
    moved: list[str] = []

    sent: list[dict[str, Any]] = []
    for rest, value, when in _kv_rows(bind, SENT):
        platform, _, external_id = rest.partition(":")
        if not external_id or not value.strip().isdigit():
            log.warning("kv %r: not a sent id; left in kv", SENT + rest)
            continue
        moved.append(SENT + rest)
        sent.append(
            {
                "platform": platform,
                "external_id": external_id,
                "message_id": int(value),
                "created_at": when,
            }
        )
    sent = _of_stored_messages(bind, sent)
    if sent:
        bind.execute(sent_messages.insert(), sent)

    copies: list[dict[str, Any]] = []
    for rest, value, when in _kv_rows(bind, COPIES):
        try:
            message_id, items = int(rest), json.loads(value)
            seen: set[tuple[str, str]] = set()
            rows: list[dict[str, Any]] = []
            for item in items:
                key = (str(item["chat"]), str(item["message_id"]))
                if key not in seen and item["form"] in ("text", "caption", "other"):
                    seen.add(key)
                    rows.append(
                        {
                            "message_id": message_id,
                            "chat": key[0],
                            "platform_message_id": key[1],
                            "form": item["form"],
                            "created_at": when,
                        }
                    )
        except (ValueError, TypeError, KeyError):
            log.warning("kv %r: not a list of copies; left in kv", COPIES + rest)
            continue
        moved.append(COPIES + rest)
        copies.extend(rows)
    copies = _of_stored_messages(bind, copies)
    if copies:
        bind.execute(customer_copies.insert(), copies)

    groups: list[dict[str, Any]] = []
    for rest, value, when in _kv_rows(bind, GROUPS):
        try:
            operator_id, names = int(rest), sorted({str(n) for n in json.loads(value or "[]")})
        except (ValueError, TypeError):
            log.warning("kv %r: not a list of groups; left in kv", GROUPS + rest)
            continue
        moved.append(GROUPS + rest)
        groups.extend({"operator_id": operator_id, "group": n, "created_at": when} for n in names)
    if groups:
        bind.execute(operator_groups.insert(), groups)

    for group, value, when in _kv_rows(bind, DIGEST):
        try:
            state: dict[str, Any] = json.loads(value) if value else {"next": 1, "digests": []}
            digests = [_digest_row(group, d) for d in state["digests"]]
            next_digest = int(state["next"])
        except (ValueError, TypeError, KeyError):
            log.warning("kv %r: not a digest state; left in kv", DIGEST + group)
            continue
        moved.append(DIGEST + group)
        bind.execute(
            feed_states.insert(), {"group": group, "next_digest": next_digest, "updated_at": when}
        )
        if digests:
            bind.execute(feed_digests.insert(), digests)

    for start in range(0, len(moved), 500):
        bind.execute(kv.delete().where(kv.c.key.in_(moved[start : start + 500])))
    if moved:
        log.info("moved %d key-value rows into their tables", len(moved))


def _of_stored_messages(bind: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose `message_id` is still in `messages` (looked up 500 at a time)."""
    wanted = sorted({row["message_id"] for row in rows})
    stored: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found = bind.execute(sa.select(messages.c.id).where(messages.c.id.in_(chunk)))
        stored.update(int(i) for (i,) in found)
    return [row for row in rows if row["message_id"] in stored]


def _digest_row(group: str, digest: dict[str, Any]) -> dict[str, Any]:
    lines, labels = digest.get("lines") or {}, digest.get("labels") or {}
    return {
        "group": group,
        "n": int(digest["n"]),
        "message_id": int(digest["message_id"]) if digest.get("message_id") is not None else None,
        "posting": bool(digest.get("posting", False)),
        "version": int(digest.get("version", 0)),
        "entries": [
            {"id": int(i), "line": lines.get(str(i)), "label": labels.get(str(i))}
            for i in digest.get("ids") or []
        ],
    }


def _carry_back(bind: sa.Connection) -> None:
    """The downgrade: write the tables' rows back as `kv` rows of the old shape."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for platform, external_id, message_id, when in bind.execute(sa.select(sent_messages)):
        rows.append(
            {
                "key": f"{SENT}{platform}:{external_id}"[:255],
                "value": str(message_id),
                "updated_at": when,
            }
        )
    copies: dict[int, list[dict[str, str]]] = {}
    for _, message_id, chat, platform_id, form, _ in bind.execute(
        sa.select(customer_copies).order_by(customer_copies.c.id)
    ):
        copies.setdefault(int(message_id), []).append(
            {"chat": chat, "message_id": platform_id, "form": form}
        )
    rows += [
        {"key": f"{COPIES}{m}", "value": json.dumps(items), "updated_at": now}
        for m, items in copies.items()
    ]
    groups: dict[int, list[str]] = {}
    for operator_id, group, _ in bind.execute(sa.select(operator_groups)):
        groups.setdefault(int(operator_id), []).append(group)
    rows += [
        {"key": f"{GROUPS}{o}", "value": json.dumps(sorted(names)), "updated_at": now}
        for o, names in groups.items()
    ]
    digests: dict[str, list[dict[str, Any]]] = {}
    for group, n, message_id, posting, version, entries in bind.execute(
        sa.select(feed_digests).order_by(feed_digests.c.group, feed_digests.c.n)
    ):
        digests.setdefault(group, []).append(
            {
                "n": n,
                "ids": [e["id"] for e in entries],
                "message_id": message_id,
                "posting": bool(posting),
                "lines": {str(e["id"]): e["line"] for e in entries if e.get("line") is not None},
                "labels": {
                    str(e["id"]): e["label"] for e in entries if e.get("label") is not None
                },
                "version": version,
            }
        )
    for group, next_digest, when in bind.execute(sa.select(feed_states)):
        state = {"next": next_digest, "digests": digests.get(group, [])}
        rows.append({"key": f"{DIGEST}{group}", "value": json.dumps(state), "updated_at": when})
    if rows:
        bind.execute(kv.insert(), rows)
