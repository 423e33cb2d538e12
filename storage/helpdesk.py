"""Queries of the helpdesk (issue 15): reminders claimed once, ratings kept once.

Helpers may add the queries their part needs here, each in its own section below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from storage.dialect import upsert_insert
from storage.models import (
    Conversation,
    ConversationState,
    Customer,
    DeliveryState,
    Direction,
    Message,
    OutboxItem,
    OutboxState,
    Reminder,
)
from storage.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
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


# --- jobs -----------------------------------------------------------------------------------
# The reminder and auto-close jobs (bridge/helpdesk): who waits, and is a reply still unsent.

#: The outbox kind of every customer outlet's rows (adapters' `enqueue_reply`/`enqueue_text`).
REPLY_KIND: Final = "reply"


@dataclass(frozen=True, slots=True)
class AnswerWait:
    """A claimed conversation whose customer waits for an answer, and since when:
    `first_unanswered` is the platform's time of their first message after the claimer's
    last reply."""

    conversation: Conversation
    first_unanswered: datetime


def _not_blocked() -> Any:
    """Conversations of customers who are not blocked (their messages are not even posted)."""
    return (
        select(Customer.id)
        .where(col(Customer.id) == col(Conversation.customer_id), col(Customer.blocked).is_(False))
        .exists()
    )


async def waiting_for_accept(session: AsyncSession, group: str) -> list[Conversation]:
    """A group's new (unclaimed) conversations, oldest first (blocked customers left out)."""
    result = await session.exec(
        select(Conversation)
        .where(
            col(Conversation.group) == group,
            col(Conversation.state) == ConversationState.NEW,
            _not_blocked(),
        )
        .order_by(col(Conversation.id))
    )
    return list(result.all())


async def waiting_for_answer(session: AsyncSession, group: str) -> list[AnswerWait]:
    """A group's claimed conversations whose customer wrote after the claimer's last reply
    (the dashboard's "with new messages"), each with the time of the customer's first message
    since that reply: the message that started the wait.

    "Since the reply" is decided by message ids (insert order), not by times: a message's
    `created_at` is the platform's clock (Telegram's whole seconds, a backlog's old dates),
    the reply's the bridge's. One query: the conversations (index `group, state`) joined to
    their customer messages after the last OUT one (index `conversation_id, id`), grouped.
    """
    reply = aliased(Message)
    last_reply = (
        select(func.max(reply.id))
        .where(reply.conversation_id == Conversation.id, reply.direction == Direction.OUT)
        .correlate(Conversation)
        .scalar_subquery()
    )
    first = func.min(col(Message.created_at)).label("first_unanswered")
    result = await session.exec(
        select(Conversation, first)
        .join(Message, col(Message.conversation_id) == col(Conversation.id))
        .where(
            col(Conversation.group) == group,
            col(Conversation.state) == ConversationState.ACCEPTED,
            col(Conversation.last_customer_message_at).is_not(None),
            or_(
                col(Conversation.last_operator_reply_at).is_(None),
                col(Conversation.last_customer_message_at)
                > col(Conversation.last_operator_reply_at),
            ),
            col(Message.direction) == Direction.IN,
            col(Message.id) > func.coalesce(last_reply, 0),
            _not_blocked(),
        )
        .group_by(col(Conversation.id))  # its other columns depend on the key
        .order_by(col(Conversation.id))
    )
    return [
        AnswerWait(conversation, as_utc(first_unanswered))
        for conversation, first_unanswered in result.all()
        if first_unanswered is not None
    ]


async def silent_claims(session: AsyncSession, group: str, before: datetime) -> list[Conversation]:
    """A group's claimed conversations with no message either way (and no accept) since
    `before`: the auto-close candidates, oldest first."""
    quiet = [
        col(Conversation.opened_at) < before,
        or_(col(Conversation.accepted_at).is_(None), col(Conversation.accepted_at) < before),
    ]
    for column in (Conversation.last_customer_message_at, Conversation.last_operator_reply_at):
        quiet.append(or_(col(column).is_(None), col(column) < before))
    result = await session.exec(
        select(Conversation)
        .where(
            col(Conversation.group) == group,
            col(Conversation.state) == ConversationState.ACCEPTED,
            *quiet,
        )
        .order_by(col(Conversation.id))
    )
    return list(result.all())


async def reply_pending(session: AsyncSession, conversation_id: int) -> bool:
    """Whether an operator's reply in this conversation has not reached the customer's
    platform yet (the auto-close waits for it).

    Two cheap EXISTS probes. A stored OUT message still `pending` (index `conversation_id, id`
    of messages): a reply is pending from when it is stored until its outbox row is sent
    (`sent`), or fails for good (`failed`). And an unsent outbox row of the conversation that
    carries a reply (kind `reply` with a message; service texts carry none), for what the
    message does not track: the later parts of a reply sent in several calls (its first part
    already marked it sent). That probe goes through the `state` index, among the unsent rows
    only, which are few next to the finished ones.
    """
    message = await session.scalar(
        select(Message.id)
        .where(
            col(Message.conversation_id) == conversation_id,
            col(Message.direction) == Direction.OUT,
            col(Message.delivery_state) == DeliveryState.PENDING,
        )
        .limit(1)
    )
    if message is not None:
        return True
    row = await session.scalar(
        select(OutboxItem.id)
        .where(
            col(OutboxItem.state).in_([OutboxState.PENDING, OutboxState.LEASED]),
            col(OutboxItem.conversation_id) == conversation_id,
            col(OutboxItem.kind) == REPLY_KIND,
            col(OutboxItem.message_id).is_not(None),
        )
        .limit(1)
    )
    return row is not None


# --- offline notices (working hours) --------------------------------------------------------


async def take_offline_notices(
    session: AsyncSession,
    customer_ids: Iterable[int],
    *,
    now: datetime,
    spell_began: datetime | None,
) -> set[int]:
    """Of these customers, those who have not had the offline auto-reply in the current closed
    spell (none yet, or one before `spell_began`, the group's last closing time): their
    `offline_notice_at` becomes `now` and their ids are returned. One conditional UPDATE, so
    two transactions (or processes) never both take the same customer's notice."""
    ids = sorted(set(customer_ids))
    if not ids:
        return set()
    owed: ColumnElement[bool] = col(Customer.offline_notice_at).is_(None)
    if spell_began is not None:
        owed = or_(owed, col(Customer.offline_notice_at) < spell_began)
    result = await session.exec(
        update(Customer)
        .where(col(Customer.id).in_(ids), owed)
        .values(offline_notice_at=now)
        .returning(col(Customer.id))
    )
    return {int(row) for row in result.scalars().all()}


async def mark_outside_hours(
    session: AsyncSession, conversation: Conversation, sla_from: datetime
) -> None:
    """A conversation opened while its group was closed: its card says so, and its SLA clocks
    start at `sla_from` (the next opening). The caller's object shows it too."""
    assert conversation.id is not None
    await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation.id)
        .values(outside_hours=True, sla_from=sla_from)
    )
    set_committed_value(conversation, "outside_hours", True)
    set_committed_value(conversation, "sla_from", sla_from)


# --- stats ----------------------------------------------------------------------------------

#: Most conversations /stats reads for one group (the newest first): bounds the work of one
#: answer on a busy group; past it the oldest of the 30 days are left out.
STATS_ROW_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class StatsRow:
    """What /stats needs of one conversation (bridge/core/stats.py computes the figures)."""

    id: int
    operator_id: int | None
    operator_name: str | None
    opened_at: datetime
    sla_from: datetime | None
    accepted_at: datetime | None
    first_reply_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    rated_at: datetime | None


async def stats_rows(
    session: AsyncSession, group: str, since: datetime, *, limit: int = STATS_ROW_LIMIT
) -> list[StatsRow]:
    """The group's conversations accepted, closed or rated at `since` or later (newest first,
    at most `limit`)."""
    c = Conversation
    result = await session.exec(
        select(c)
        .where(
            col(c.group) == group,
            or_(
                col(c.accepted_at) >= since,
                col(c.closed_at) >= since,
                col(c.rated_at) >= since,
            ),
        )
        .order_by(col(c.id).desc())
        .limit(limit)
    )
    return [
        StatsRow(
            id=row.id or 0,
            operator_id=row.operator_id,
            operator_name=row.operator_name,
            opened_at=row.opened_at,
            sla_from=row.sla_from,
            accepted_at=row.accepted_at,
            first_reply_at=row.first_reply_at,
            closed_at=row.closed_at,
            rating=row.rating,
            rated_at=row.rated_at,
        )
        for row in result.all()
    ]


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
