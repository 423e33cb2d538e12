"""Queries of the helpdesk (issue 15): reminders claimed once, ratings kept once.

Helpers may add the queries their part needs here, each in its own section below.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import col

from storage.dialect import upsert_insert
from storage.models import Conversation, Reminder
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession


# --- reminders ------------------------------------------------------------------------------


async def claim_reminder(
    session: AsyncSession,
    conversation_id: int,
    kind: str,
    wait: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Record that the `kind` reminder of this `wait` is being sent; False when it already was
    (by this process or another). Call it in the transaction that queues the reminder: if that
    rolls back, so does the claim."""
    inserted = await session.exec(
        upsert_insert(session, Reminder)
        .values(conversation_id=conversation_id, kind=kind, wait=wait, created_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["conversation_id", "kind", "wait"])
        .returning(Reminder.id)
    )
    return inserted.scalar_one_or_none() is not None


# --- ratings --------------------------------------------------------------------------------


async def store_rating(
    session: AsyncSession, conversation_id: int, rating: int, *, now: datetime | None = None
) -> bool:
    """Keep the customer's rating (1-5) of a conversation; False when it was rated already
    (one rating per conversation) or the rating is out of range."""
    if not 1 <= rating <= 5:
        return False
    result = await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id, col(Conversation.rating).is_(None))
        .values(rating=rating, rated_at=now or utcnow())
    )
    return bool(result.rowcount)


async def store_rating_comment(session: AsyncSession, conversation_id: int, comment: str) -> bool:
    """Keep the comment that followed a rating; False when the conversation is not rated or
    has its comment already (one comment per rating)."""
    result = await session.exec(
        update(Conversation)
        .where(
            col(Conversation.id) == conversation_id,
            col(Conversation.rating).is_not(None),
            col(Conversation.rating_comment).is_(None),
        )
        .values(rating_comment=comment)
    )
    return bool(result.rowcount)
