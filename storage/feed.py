"""Queries of the Incoming feed's storm digest (desk/feed.py).

The digest's state is one small JSON document per group in the `kv` table, read with its row
locked (PostgreSQL: `FOR UPDATE`; SQLite transactions are already exclusive), so two processes
that add inquiries at the same moment never lose one another's entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import col, select, update

from storage.models import Conversation, ConversationState, KeyValue, OutboxItem, OutboxState
from storage.state import kv_set
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession


async def inquiries_without_card(session: AsyncSession, group: str, limit: int) -> list[int]:
    """Ids of the group's new conversations whose card is not posted yet, oldest first."""
    statement = (
        select(Conversation.id)
        .where(
            Conversation.group == group,
            Conversation.state == ConversationState.NEW.value,
            col(Conversation.card_message_id).is_(None),
        )
        .order_by(col(Conversation.id))
        .limit(limit)
    )
    return [int(i) for i in (await session.exec(statement)).all() if i is not None]


async def lock_state(session: AsyncSession, key: str) -> str | None:
    """The value under `key`, its row locked until the transaction ends (created if absent)."""
    row = await session.get(KeyValue, key, with_for_update=True, populate_existing=True)
    if row is None:
        await kv_set(session, key, "")
        row = await session.get(KeyValue, key, with_for_update=True, populate_existing=True)
    return row.value if row is not None and row.value else None


async def save_state(session: AsyncSession, key: str, value: str) -> None:
    """Store the state under `key` (in the caller's transaction)."""
    await kv_set(session, key, value)


async def withdraw_queued_cards(
    session: AsyncSession, conversation_ids: list[int], *, kind: str = "card"
) -> list[int]:
    """Supersede the still-pending card rows of these conversations (a leased one is already
    on its way and stays); returns the ids of the conversations whose card was withdrawn."""
    if not conversation_ids:
        return []
    pending = (
        col(OutboxItem.kind) == kind,
        col(OutboxItem.conversation_id).in_(conversation_ids),
        col(OutboxItem.state) == OutboxState.PENDING.value,
    )
    found = await session.exec(select(OutboxItem.conversation_id).where(*pending))
    ids = sorted({int(i) for i in found.all() if i is not None})
    if ids:
        await session.exec(
            update(OutboxItem)
            .where(*pending)
            .values(state=OutboxState.SUPERSEDED.value, done_at=utcnow())
        )
    return ids
