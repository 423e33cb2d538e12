"""The retention jobs' queries (bridge/retention.py): delete old finished work in batches.

Each `delete_*` function deletes at most `limit` rows in one statement and returns how many
it deleted; the caller commits and calls again while a full batch came back, so a large
backlog never holds one long transaction (on SQLite the write lock every writer waits for).
Deleting is idempotent: when two processes delete at once, each row goes once. On PostgreSQL
a batch skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`) instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_name
from storage.models import (
    Conversation,
    ConversationState,
    Customer,
    Direction,
    Message,
    OutboxItem,
    OutboxState,
    ProcessedEvent,
)
from storage.timeutil import as_utc

#: Outbox states of rows still to be sent; every other state is finished.
_OPEN = (OutboxState.PENDING.value, OutboxState.LEASED.value)


def _batch(session: AsyncSession, statement: Any) -> Any:
    if dialect_name(session) == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement


async def delete_finished_outbox(session: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to `limit` finished outbox rows (sent, failed, superseded) that finished
    before `before`, oldest first; rows still pending or leased are never touched."""
    chosen = _batch(
        session,
        select(OutboxItem.id)
        .where(
            col(OutboxItem.done_at) < as_utc(before),
            col(OutboxItem.state).not_in(_OPEN),
        )
        .order_by(col(OutboxItem.done_at))
        .limit(limit),
    )
    result = await session.exec(
        delete(OutboxItem).where(col(OutboxItem.id).in_(chosen.scalar_subquery()))
    )
    return int(result.rowcount or 0)


async def delete_processed_events(session: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to `limit` processed event ids recorded before `before`, oldest first."""
    chosen = _batch(
        session,
        select(ProcessedEvent.source, ProcessedEvent.event_id)
        .where(col(ProcessedEvent.created_at) < as_utc(before))
        .order_by(col(ProcessedEvent.created_at))
        .limit(limit),
    )
    key = tuple_(col(ProcessedEvent.source), col(ProcessedEvent.event_id))
    result = await session.exec(delete(ProcessedEvent).where(key.in_(chosen)))
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class MessageFiles:
    """The attachments of one deleted message, for the platform that keeps their files.

    `channel` and `customer` (the customer's platform id) say whose conversation it was;
    `outbound` is True for an operator's reply (the platform keeps copies of its files under
    ids derived from `message_id` and each attachment's index), False for the customer's own.
    """

    channel: str
    customer: str
    message_id: int
    outbound: bool
    attachments: Sequence[Mapping[str, Any]]


@dataclass(slots=True)
class ClosedContent:
    """What one batch of `delete_closed_content` removed."""

    conversations: int = 0
    messages: int = 0
    outbox: int = 0
    files: list[MessageFiles] = field(default_factory=list)


async def delete_closed_content(
    session: AsyncSession, before: datetime, limit: int
) -> ClosedContent:
    """Delete the messages of up to `limit` conversations closed before `before`, oldest
    closed first, with their outbox rows not being sent right now (payloads hold the texts)
    and their rating comments; the conversations stay (times, states and ratings feed the
    counters and /stats). Returns the deleted messages' attachments, whose stored files the
    caller removes once this commits. Conversations with nothing left to delete are skipped.
    """
    has_messages = exists().where(col(Message.conversation_id) == col(Conversation.id))
    chosen = _batch(
        session,
        select(Conversation.id)
        .where(
            Conversation.state == ConversationState.CLOSED,
            col(Conversation.closed_at) < as_utc(before),
            or_(has_messages, col(Conversation.rating_comment).is_not(None)),
        )
        .order_by(col(Conversation.closed_at), col(Conversation.id))
        .limit(limit),
    )
    ids = [int(found) for found in (await session.exec(chosen)).all()]
    if not ids:
        return ClosedContent()
    owners = await session.exec(
        select(Conversation.id, Customer.channel, Customer.external_id)
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .where(col(Conversation.id).in_(ids))
    )
    whose = {number: (channel, customer) for number, channel, customer in owners.all()}
    with_files = await session.exec(
        select(Message.id, Message.direction, Message.attachments, Message.conversation_id).where(
            col(Message.conversation_id).in_(ids)
        )
    )
    files = [
        MessageFiles(*whose[number], message_id or 0, direction == Direction.OUT, attachments)
        for message_id, direction, attachments, number in with_files.all()
        if attachments and number in whose
    ]
    messages = await session.exec(delete(Message).where(col(Message.conversation_id).in_(ids)))
    outbox = await session.exec(
        delete(OutboxItem).where(
            col(OutboxItem.conversation_id).in_(ids),
            col(OutboxItem.state) != OutboxState.LEASED,
        )
    )
    await session.exec(
        update(Conversation).where(col(Conversation.id).in_(ids)).values(rating_comment=None)
    )
    return ClosedContent(len(ids), int(messages.rowcount or 0), int(outbox.rowcount or 0), files)


async def attachment_refs(
    session: AsyncSession, channel: str, customers: Sequence[str]
) -> dict[str, set[str]]:
    """The `file_ref` of every attachment in the messages of these customers of `channel`
    (customers by their platform id), by customer: which stored files a message uses."""
    if not customers:
        return {}
    statement = (
        select(Customer.external_id, Message.attachments)
        .join(Conversation, col(Conversation.customer_id) == col(Customer.id))
        .join(Message, col(Message.conversation_id) == col(Conversation.id))
        .where(Customer.channel == channel, col(Customer.external_id).in_(list(customers)))
    )
    refs: dict[str, set[str]] = {}
    for customer, attachments in (await session.exec(statement)).all():
        found = refs.setdefault(customer, set())
        found.update(_refs(attachments))
    return refs


def _refs(attachments: Iterable[Any] | None) -> Iterable[str]:
    for attachment in attachments or ():
        if isinstance(attachment, dict) and isinstance(attachment.get("file_ref"), str):
            yield attachment["file_ref"]
