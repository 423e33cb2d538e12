"""The dashboard's counters: new conversations in the feed, and claimed ones awaiting a reply.

A blocked customer's conversations are never counted: their messages are stored, not posted,
so nobody can (or should) act on them.
"""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import Conversation, ConversationState, Customer


def _counted_conversations() -> SelectOfScalar[int]:
    """SELECT count(*) over conversations whose customer is not blocked."""
    return (
        select(func.count())
        .select_from(Conversation)
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .where(col(Customer.blocked).is_(False))
    )


async def count_new(session: AsyncSession, group: str) -> int:
    """New (unclaimed) conversations of a group: the left counter of the dashboard."""
    count = await session.scalar(
        _counted_conversations().where(
            col(Conversation.group) == group, col(Conversation.state) == ConversationState.NEW
        )
    )
    return int(count or 0)


async def count_unanswered(
    session: AsyncSession, group: str, operator_id: int | None = None
) -> int:
    """Accepted conversations whose last customer message is newer than the claimer's last reply.

    The right counter of the dashboard; with `operator_id`, only that operator's (`/my`).
    """
    statement = _counted_conversations().where(
        col(Conversation.group) == group,
        col(Conversation.state) == ConversationState.ACCEPTED,
        col(Conversation.last_customer_message_at).is_not(None),
        or_(
            col(Conversation.last_operator_reply_at).is_(None),
            col(Conversation.last_customer_message_at) > col(Conversation.last_operator_reply_at),
        ),
    )
    if operator_id is not None:
        statement = statement.where(col(Conversation.operator_id) == operator_id)
    return int(await session.scalar(statement) or 0)


def badge(count: int) -> str:
    """How the dashboard shows a counter: the number, or "!" above 9."""
    return "!" if count > 9 else str(count)
