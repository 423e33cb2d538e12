"""Messages of a conversation: inbound (deduplicated), operator replies, notes, delivery state.

A message with a platform id is stored at most once per (channel, external_id): the insert is
`ON CONFLICT DO NOTHING` on the unique constraint, so concurrent duplicates are dropped without
an error and without spoiling the caller's transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import insert_skipping_duplicates, upsert_insert
from storage.models import Conversation, Customer, DeliveryState, Direction, Message
from storage.timeutil import UTCDateTime, as_utc, utcnow


def attachments_json(attachments: Iterable[Any] | None) -> list[dict[str, Any]] | None:
    """Attachments (dicts or `Attachment` dataclasses) as JSON-ready dicts, without raw bytes."""
    if attachments is None:
        return None
    items: list[dict[str, Any]] = []
    for attachment in attachments:
        if dataclasses.is_dataclass(attachment) and not isinstance(attachment, type):
            data = dataclasses.asdict(attachment)
        elif isinstance(attachment, Mapping):
            data = dict(attachment)
        else:
            raise TypeError(f"an attachment must be a dict or a dataclass, not {attachment!r}")
        items.append({k: v for k, v in data.items() if v is not None and k != "data"})
    return items or None


def _row(
    conversation_id: int | None,
    direction: Direction,
    *,
    channel: str,
    author: str | None,
    text: str | None,
    attachments: Iterable[Any] | None,
    external_id: str | None,
    delivery_state: DeliveryState,
    created_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """A messages row as the INSERT takes it (`now` when the platform gave no time)."""
    return {
        "conversation_id": conversation_id,
        "direction": direction,
        "author": author,
        "text": text,
        "attachments": attachments_json(attachments),
        "channel": channel,
        "external_id": None if external_id is None else str(external_id),
        "created_at": as_utc(created_at) if created_at is not None else now,
        "delivery_state": delivery_state,
    }


async def store_message(
    session: AsyncSession,
    conversation_id: int,
    direction: Direction | str,
    *,
    channel: str,
    author: str | None = None,
    text: str | None = None,
    attachments: Iterable[Any] | None = None,
    external_id: str | None = None,
    delivery_state: DeliveryState | str = DeliveryState.PENDING,
    created_at: datetime | None = None,
) -> Message | None:
    """Store a message; None when (channel, external_id) is already stored (a duplicate)."""
    direction = Direction(direction)
    delivery_state = DeliveryState(delivery_state)
    if not channel:
        raise ValueError("channel must be a non-empty string")
    values = _row(
        conversation_id,
        direction,
        channel=channel,
        author=author,
        text=text,
        attachments=attachments,
        external_id=external_id,
        delivery_state=delivery_state,
        created_at=created_at,
        now=utcnow(),
    )
    inserted = await session.exec(
        upsert_insert(session, Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(Message)  # the stored row as an ORM object: no second query
    )
    return inserted.scalar_one_or_none()


async def store_inbound_message(
    session: AsyncSession,
    conversation: Conversation,
    *,
    channel: str,
    external_id: str | None,
    author: str | None,
    text: str | None,
    attachments: Iterable[Any] | None = None,
    created_at: datetime | None = None,
    counted: bool = True,
) -> Message | None:
    """Store a customer's message and bump the conversation's and customer's inbound times.

    `created_at` is the platform's time of the message (shown to operators). The counters
    compare the conversation's `last_customer_message_at` with the claimer's last reply, so it
    is the bridge's receive time: the same clock as the reply's (Telegram dates in whole
    seconds, and a backlog arrives long after its platform time). `counted=False` (a blocked
    customer) stores the message without making the conversation count as unanswered.
    Returns None for a duplicate (same channel and external_id), touching nothing. Inbound
    messages count as delivered (they reached us).
    """
    if conversation.id is None:
        raise ValueError("the conversation must be stored before its messages")
    message = await store_message(
        session,
        conversation.id,
        Direction.IN,
        channel=channel,
        author=author,
        text=text,
        attachments=attachments,
        external_id=external_id,
        delivery_state=DeliveryState.DELIVERED,
        created_at=created_at,
    )
    if message is None:
        return None
    if counted:
        received = utcnow()
        await session.exec(
            update(Conversation)
            .where(col(Conversation.id) == conversation.id)
            .values(last_customer_message_at=received)
        )
        # The caller's object shows the new time too, without a re-read or a second UPDATE.
        set_committed_value(conversation, "last_customer_message_at", received)
    await session.exec(
        update(Customer)
        .where(col(Customer.id) == conversation.customer_id)
        .values(last_inbound_at=message.created_at)
    )
    return message


_CUSTOMER_WROTE = (
    update(Conversation)
    .where(col(Conversation.id).in_(bindparam("ids", expanding=True)))
    .values(last_customer_message_at=bindparam("received"))
)


_CUSTOMERS = Customer.__table__  # type: ignore[attr-defined]
_CUSTOMER_WROTE_AT = (
    update(_CUSTOMERS)
    .where(_CUSTOMERS.c.id == bindparam("customer"))
    .values(last_inbound_at=bindparam("at"))
)


@dataclass(frozen=True, slots=True)
class InboundRow:
    """One customer message for `store_inbound_messages`."""

    conversation: Conversation
    customer: Customer
    channel: str
    external_id: str
    author: str | None
    text: str | None
    attachments: Iterable[Any] | None = None
    created_at: datetime | None = None


async def store_inbound_messages(
    session: AsyncSession, rows: Sequence[InboundRow]
) -> list[Message | None]:
    """`store_inbound_message` for many messages at once: one INSERT and two UPDATEs in all.

    Returns each row's stored message, or None for a duplicate (an id stored before, or
    repeated earlier in `rows`), which touches nothing. Every stored message counts (the
    caller leaves blocked customers to `store_inbound_message`).
    """
    if not rows:
        return []
    now = utcnow()
    values = [
        _row(
            row.conversation.id,
            Direction.IN,
            channel=row.channel,
            author=row.author,
            text=row.text,
            attachments=row.attachments,
            external_id=row.external_id,
            delivery_state=DeliveryState.DELIVERED,
            created_at=row.created_at,
            now=now,
        )
        for row in rows
    ]
    inserted = await session.exec(  # an ORM bulk INSERT: one cached statement for all rows
        insert_skipping_duplicates(session, Message, ("channel", "external_id"), Message),
        params=values,
    )
    by_id = {(m.channel, m.external_id): m for m in inserted.scalars().all()}
    stored = [by_id.pop((row.channel, row.external_id), None) for row in rows]
    conversations = {
        message.conversation_id: row.conversation
        for row, message in zip(rows, stored, strict=True)
        if message is not None
    }
    if not conversations:
        return stored
    await session.exec(_CUSTOMER_WROTE, params={"ids": sorted(conversations), "received": now})
    for conversation in conversations.values():
        set_committed_value(conversation, "last_customer_message_at", now)
    last_inbound: dict[int, tuple[Customer, datetime]] = {}
    for row, message in zip(rows, stored, strict=True):
        if message is not None and row.customer.id is not None:
            last_inbound[row.customer.id] = (row.customer, message.created_at)
    await session.exec(  # a Core executemany: one statement, no ORM bookkeeping per row
        _CUSTOMER_WROTE_AT,
        params=[{"customer": key, "at": at} for key, (_, at) in sorted(last_inbound.items())],
    )
    for customer, at in last_inbound.values():
        set_committed_value(customer, "last_inbound_at", at)
    return stored


async def store_operator_reply(
    session: AsyncSession,
    conversation_id: int,
    *,
    channel: str,
    author: str,
    text: str | None,
    attachments: Iterable[Any] | None = None,
    external_id: str | None = None,
) -> Message:
    """Store the claimer's answer to the customer (pending delivery) and mark them answered;
    the conversation's first answer also sets `first_reply_at` (for /stats)."""
    message = await store_message(
        session,
        conversation_id,
        Direction.OUT,
        channel=channel,
        author=author,
        text=text,
        attachments=attachments,
        external_id=external_id,
    )
    if message is None:
        raise ValueError(f"reply {channel}:{external_id} is already stored")
    await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(
            last_operator_reply_at=message.created_at,
            first_reply_at=func.coalesce(
                col(Conversation.first_reply_at), literal(message.created_at, UTCDateTime())
            ),
        )
    )
    return message


async def store_note(
    session: AsyncSession,
    conversation_id: int,
    *,
    channel: str,
    author: str,
    text: str | None,
    attachments: Iterable[Any] | None = None,
    external_id: str | None = None,
) -> Message | None:
    """Store an internal note (never relayed); None if this group message is already stored."""
    return await store_message(
        session,
        conversation_id,
        Direction.NOTE,
        channel=channel,
        author=author,
        text=text,
        attachments=attachments,
        external_id=external_id,
        delivery_state=DeliveryState.DELIVERED,
    )


async def find_message(session: AsyncSession, channel: str, external_id: str) -> Message | None:
    """The message a platform knows by this id, if stored."""
    result = await session.exec(
        select(Message).where(Message.channel == channel, Message.external_id == str(external_id))
    )
    return result.first()


async def get_message(session: AsyncSession, message_id: int) -> Message | None:
    """The message with this id, freshly read."""
    return await session.get(Message, message_id, populate_existing=True)


async def set_delivery_state(
    session: AsyncSession,
    message_id: int,
    state: DeliveryState | str,
    error: str | None = None,
) -> bool:
    """Record how far a message got (sent, delivered, seen, failed + error)."""
    state = DeliveryState(state)
    result = await session.exec(
        update(Message)
        .where(col(Message.id) == message_id)
        .values(delivery_state=state, delivery_error=error if state == "failed" else None)
    )
    return result.rowcount == 1


async def mark_message_edited(
    session: AsyncSession, message_id: int, text: str | None, edited_at: datetime | None = None
) -> bool:
    """Replace a message's text after an edit on its platform."""
    result = await session.exec(
        update(Message)
        .where(col(Message.id) == message_id)
        .values(text=text, edited_at=as_utc(edited_at) if edited_at else utcnow())
    )
    return result.rowcount == 1


async def conversation_messages(
    session: AsyncSession, conversation_id: int, limit: int | None = None
) -> list[Message]:
    """A conversation's messages in order; with `limit`, only the newest `limit` of them."""
    statement = select(Message).where(Message.conversation_id == conversation_id)
    if limit is None:
        result = await session.exec(statement.order_by(col(Message.id)))
        return list(result.all())
    result = await session.exec(statement.order_by(col(Message.id).desc()).limit(limit))
    return list(reversed(result.all()))
