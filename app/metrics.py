"""Gauges `talker-bridge run` reads from the database (and its leader) when /metrics is asked:
what the dashboards in deploy/ need and the components do not count as they go.

- `outbox_destination_queue_depth` / `outbox_destination_oldest_pending_seconds`: the open
  (pending or leased) outbox rows of each destination, for the `DESTINATION_LIMIT` destinations
  whose oldest open row is oldest (a destination is a chat: customers' chats are unbounded, so
  only the ones falling behind get a series; the totals are `outbox_queue_depth` and
  `outbox_oldest_pending_seconds`).
- `talker_bridge_conversations_waiting{group}`: conversations nobody has accepted yet.
- `talker_bridge_leader`: 1 while this process holds the leadership (one process of a
  PostgreSQL scale-out does the leader's duties; a single process is always the leader).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Gauge
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation, ConversationState, OutboxItem, OutboxState

#: At most this many destinations get their own series (the ones with the oldest open rows).
DESTINATION_LIMIT = 20

DESTINATION_DEPTH = Gauge(
    "outbox_destination_queue_depth",
    "Outbox rows pending or leased, by destination (the destinations with the oldest rows).",
    ["platform", "destination"],
)
DESTINATION_OLDEST = Gauge(
    "outbox_destination_oldest_pending_seconds",
    "Age of the oldest pending or leased outbox row, by destination (the oldest few).",
    ["platform", "destination"],
)
CONVERSATIONS_WAITING = Gauge(
    "talker_bridge_conversations_waiting",
    "Conversations waiting for an operator to accept them, by operators' group.",
    ["group"],
)
LEADER = Gauge("talker_bridge_leader", "1 while this process is the leader, else 0.")

_OPEN = (OutboxState.PENDING.value, OutboxState.LEASED.value)


def _aware(value: datetime | str, now: datetime) -> datetime:
    if isinstance(value, str):  # func.min bypasses the column type on SQLite
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=now.tzinfo)


async def refresh_destinations(session: AsyncSession, now: datetime | None = None) -> None:
    """Set the per-destination outbox gauges from the database (series of destinations that
    drained or fell out of the oldest few are removed)."""
    now = now or datetime.now(UTC)
    oldest = func.min(OutboxItem.created_at)
    rows = (
        await session.exec(
            select(
                OutboxItem.platform, OutboxItem.destination, func.count(col(OutboxItem.id)), oldest
            )
            .where(col(OutboxItem.state).in_(_OPEN))
            .group_by(col(OutboxItem.platform), col(OutboxItem.destination))
            .order_by(oldest)
            .limit(DESTINATION_LIMIT)
        )
    ).all()
    DESTINATION_DEPTH.clear()
    DESTINATION_OLDEST.clear()
    for platform, destination, count, first in rows:
        age = max(0.0, (now - _aware(first, now)).total_seconds())
        DESTINATION_DEPTH.labels(platform, destination).set(int(count))
        DESTINATION_OLDEST.labels(platform, destination).set(age)


async def refresh_waiting(session: AsyncSession, groups: list[str]) -> None:
    """Set `talker_bridge_conversations_waiting` for every configured group (0 when none)."""
    rows = (
        await session.exec(
            select(Conversation.group, func.count(col(Conversation.id)))
            .where(col(Conversation.state) == ConversationState.NEW.value)
            .group_by(col(Conversation.group))
        )
    ).all()
    counts = {group: int(count) for group, count in rows}
    CONVERSATIONS_WAITING.clear()
    for group in sorted({*groups, *counts}):
        CONVERSATIONS_WAITING.labels(group).set(counts.get(group, 0))


def refresh_leader(is_leader: bool) -> None:
    LEADER.set(1 if is_leader else 0)
