"""Queries of the site widget: what one visitor may read (their own conversations only)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OPEN_STATES, Conversation, Customer, Direction, Message

# The widget's queries, built once (their parameters bound at each call).
_OPEN_CONVERSATIONS = (
    select(col(Customer.external_id))
    .distinct()
    .join(Conversation, col(Customer.id) == col(Conversation.customer_id))
    .where(
        col(Customer.channel) == bindparam("channel"),
        col(Customer.external_id).in_(bindparam("visitors", expanding=True)),
        col(Conversation.state).in_(OPEN_STATES),
    )
)
_OWN_MESSAGE = (
    select(Message)
    .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
    .join(Customer, col(Customer.id) == col(Conversation.customer_id))
    .where(
        col(Customer.channel) == bindparam("channel"),
        col(Customer.external_id) == bindparam("visitor"),
        col(Message.channel) == bindparam("channel"),
        col(Message.external_id) == bindparam("external_id"),
    )
)


async def visitors_with_open_conversation(
    session: AsyncSession, channel: str, visitors: Iterable[str]
) -> set[str]:
    """Which of these visitors have an open (new or accepted) conversation: one indexed
    query for all of them, read without loading any row into the session."""
    wanted = sorted(set(visitors))
    if not wanted:
        return set()
    connection = await session.connection()
    found = await connection.execute(_OPEN_CONVERSATIONS, {"channel": channel, "visitors": wanted})
    return {visitor for (visitor,) in found}


async def visitor_messages(
    session: AsyncSession, channel: str, visitor: str, *, after_id: int = 0, limit: int = 200
) -> list[Message]:
    """The visitor's messages and the replies to them, oldest first, with id > `after_id`.

    Only the customer (channel, visitor) is read: their inbound messages and the operators'
    replies, never internal notes. With more than `limit` newer messages, the newest `limit`.
    """
    statement = (
        select(Message)
        .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .where(
            Customer.channel == channel,
            Customer.external_id == visitor,
            col(Message.direction).in_((Direction.IN, Direction.OUT)),
            col(Message.id) > after_id,
        )
        .order_by(col(Message.id).desc())
        .limit(limit)
    )
    result = await session.exec(statement)
    return list(reversed(result.all()))


async def visitor_message(
    session: AsyncSession, channel: str, visitor: str, external_id: str
) -> Message | None:
    """The visitor's own stored message with this platform id, or None."""
    values = {"channel": channel, "visitor": visitor, "external_id": external_id}
    return (await session.exec(_OWN_MESSAGE, params=values)).first()


async def visitor_message_by_id(
    session: AsyncSession, channel: str, visitor: str, message_id: int
) -> Message | None:
    """The message `message_id` when it belongs to the visitor's conversations (not a note)."""
    statement = (
        select(Message)
        .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .where(
            Customer.channel == channel,
            Customer.external_id == visitor,
            col(Message.direction).in_((Direction.IN, Direction.OUT)),
            Message.id == message_id,
        )
    )
    return (await session.exec(statement)).first()


async def latest_message_id(session: AsyncSession) -> int:
    """The highest message id stored now (0 when none): a mark to catch up from later."""
    statement = select(func.max(Message.id))
    return int((await session.exec(statement)).one() or 0)
