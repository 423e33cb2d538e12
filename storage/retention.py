"""The retention jobs' queries (bridge/retention.py): delete old finished work in batches.

Each `delete_*` function deletes at most `limit` rows in one statement and returns how many
it deleted; the caller commits and calls again while a full batch came back, so a large
backlog never holds one long transaction (on SQLite the write lock every writer waits for).
Deleting is idempotent: when two processes delete at once, each row goes once. On PostgreSQL
a batch skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`) instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_name
from storage.models import Conversation, Customer, Message, OutboxItem, OutboxState, ProcessedEvent
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
