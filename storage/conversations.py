"""Conversations: open, claim, release, transfer, close — each a conditional update.

A customer has at most one open (new or accepted) conversation; a partial unique index enforces
it on both backends, and `find_or_open_conversation` relies on it to stay race-free. State
changes are single `UPDATE ... WHERE state = ...` statements: they return True only when they
changed a row, so of two concurrent claims exactly one wins.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import OPEN_STATES, Conversation, ConversationState, Customer
from storage.timeutil import utcnow


class ConversationAlreadyOpen(Exception):
    """The customer already has an open conversation; `conversation` is that one."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__(f"customer {conversation.customer_id} already has #{conversation.id}")
        self.conversation = conversation


async def get_conversation(session: AsyncSession, conversation_id: int) -> Conversation | None:
    """The conversation with this id, freshly read."""
    return await session.get(Conversation, conversation_id, populate_existing=True)


async def find_open_conversation(session: AsyncSession, customer_id: int) -> Conversation | None:
    """The customer's open (new or accepted) conversation, if any."""
    result = await session.exec(
        select(Conversation)
        .where(Conversation.customer_id == customer_id, col(Conversation.state).in_(OPEN_STATES))
        .execution_options(populate_existing=True)
    )
    return result.first()


async def lock_open_conversations(
    session: AsyncSession, customer_ids: Iterable[int]
) -> dict[int, Conversation]:
    """These customers' open conversations by customer id, freshly read and row-locked.

    Locked in id order, so two transactions locking overlapping sets queue instead of
    deadlocking.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    result = await session.exec(_OPEN_OF_CUSTOMERS_LOCKED, params={"customers": ids})
    return {conversation.customer_id: conversation for conversation in result.all()}


_OPEN_OF_CUSTOMERS_LOCKED = (
    select(Conversation)
    .where(
        col(Conversation.customer_id).in_(bindparam("customers", expanding=True)),
        col(Conversation.state).in_(OPEN_STATES),
    )
    .order_by(col(Conversation.id))
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def last_closed_conversation(session: AsyncSession, customer_id: int) -> Conversation | None:
    """The customer's most recent closed conversation, if any."""
    result = await session.exec(
        select(Conversation)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.state == ConversationState.CLOSED,
        )
        .order_by(col(Conversation.id).desc())
        .limit(1)
    )
    return result.first()


def _customer_id(customer: Customer) -> int:
    if customer.id is None:
        raise ValueError("the customer must be stored (flushed) before opening a conversation")
    return customer.id


async def _try_open(session: AsyncSession, customer: Customer, group: str) -> Conversation | None:
    customer_id = _customer_id(customer)
    if not isinstance(group, str) or not group:
        raise ValueError(f"group must be a non-empty string, got {group!r}")
    previous = await last_closed_conversation(session, customer_id)
    # The customer's forum topic is reused for each new conversation in the same group.
    topic_id = previous.topic_id if previous is not None and previous.group == group else None
    open_states = ", ".join(f"'{state}'" for state in OPEN_STATES)
    inserted = await session.exec(
        upsert_insert(session, Conversation)
        .values(
            customer_id=customer_id,
            group=group,
            state=ConversationState.NEW,
            opened_at=utcnow(),
            previous_conversation_id=previous.id if previous is not None else None,
            topic_id=topic_id,
        )
        .on_conflict_do_nothing(
            index_elements=["customer_id"], index_where=text(f"state IN ({open_states})")
        )
        .returning(Conversation.id)
    )
    new_id = inserted.scalar_one_or_none()
    if new_id is None:
        return None
    return await get_conversation(session, new_id)


async def open_conversation(session: AsyncSession, customer: Customer, group: str) -> Conversation:
    """Open a new conversation, linked to the customer's last closed one.

    Raises ConversationAlreadyOpen when the customer has an open conversation.
    """
    for _ in range(3):
        conversation = await _try_open(session, customer, group)
        if conversation is not None:
            return conversation
        existing = await find_open_conversation(session, _customer_id(customer))
        if existing is not None:
            raise ConversationAlreadyOpen(existing)
        # The open one was closed between our insert and our read: try again.
    raise RuntimeError(f"could not open a conversation for customer {customer.id}")


async def find_or_open_conversation(
    session: AsyncSession, customer: Customer, group: str
) -> tuple[Conversation, bool]:
    """The customer's open conversation, or a new one; the flag says whether it is new."""
    existing = await find_open_conversation(session, _customer_id(customer))
    if existing is not None:
        return existing, False
    try:
        return await open_conversation(session, customer, group), True
    except ConversationAlreadyOpen as race:  # a concurrent message opened it first
        return race.conversation, False


async def claim_conversation(
    session: AsyncSession,
    conversation_id: int,
    operator_id: int,
    operator_name: str,
    *,
    group: str | None = None,
) -> bool:
    """Accept a new conversation for an operator; True only for the one claim that won.

    With `group`, only a conversation of that operators' group can be claimed."""
    conditions = [
        col(Conversation.id) == conversation_id,
        col(Conversation.state) == ConversationState.NEW,
    ]
    if group is not None:
        conditions.append(col(Conversation.group) == group)
    result = await session.exec(
        update(Conversation)
        .where(*conditions)
        .values(
            state=ConversationState.ACCEPTED,
            operator_id=operator_id,
            operator_name=operator_name,
            accepted_at=utcnow(),
        )
    )
    return result.rowcount == 1


async def release_conversation(
    session: AsyncSession, conversation_id: int, operator_id: int | None = None
) -> bool:
    """Return an accepted conversation to the feed (accepted → new, operator cleared).

    With `operator_id`, only that operator's claim is released. The fresh card's wait for
    Accept starts now (`sla_from`; the SLA jobs add working hours), and the next claimer's
    first answer is theirs (`first_reply_at` cleared, for /stats).
    """
    conditions = [
        col(Conversation.id) == conversation_id,
        col(Conversation.state) == ConversationState.ACCEPTED,
    ]
    if operator_id is not None:
        conditions.append(col(Conversation.operator_id) == operator_id)
    result = await session.exec(
        update(Conversation)
        .where(*conditions)
        .values(
            state=ConversationState.NEW,
            operator_id=None,
            operator_name=None,
            accepted_at=None,
            last_operator_reply_at=None,
            sla_from=utcnow(),
            first_reply_at=None,
        )
    )
    return result.rowcount == 1


async def transfer_conversation(
    session: AsyncSession,
    conversation_id: int,
    to_operator_id: int,
    to_operator_name: str,
    from_operator_id: int | None = None,
) -> bool:
    """Hand an accepted conversation to another operator (only from `from_operator_id` if given).

    The new operator has not replied yet, so their last reply time starts empty.
    """
    conditions = [
        col(Conversation.id) == conversation_id,
        col(Conversation.state) == ConversationState.ACCEPTED,
    ]
    if from_operator_id is not None:
        conditions.append(col(Conversation.operator_id) == from_operator_id)
    result = await session.exec(
        update(Conversation)
        .where(*conditions)
        .values(
            operator_id=to_operator_id,
            operator_name=to_operator_name,
            accepted_at=utcnow(),
            last_operator_reply_at=None,
        )
    )
    return result.rowcount == 1


async def close_conversation(
    session: AsyncSession, conversation_id: int, *, reason: str = "operator"
) -> bool:
    """Close an open conversation; False when it was already closed (or does not exist).

    `reason`: "operator" (/close) or "inactivity" (auto_close_after)."""
    result = await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id, col(Conversation.state).in_(OPEN_STATES))
        .values(state=ConversationState.CLOSED, closed_at=utcnow(), close_reason=reason)
    )
    return result.rowcount == 1


async def set_card(
    session: AsyncSession, conversation_id: int, chat_id: int, message_id: int | None
) -> bool:
    """Remember where the conversation's card was posted in the operators' group."""
    result = await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(card_chat_id=chat_id, card_message_id=message_id)
    )
    return result.rowcount == 1


async def set_topic(session: AsyncSession, conversation_id: int, topic_id: int | None) -> bool:
    """Remember the forum topic where the conversation is worked on."""
    result = await session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(topic_id=topic_id)
    )
    return result.rowcount == 1


async def open_conversations(
    session: AsyncSession, group: str | None = None, operator_id: int | None = None
) -> list[Conversation]:
    """Open conversations, oldest first, optionally of one group and/or one claimer."""
    statement = select(Conversation).where(col(Conversation.state).in_(OPEN_STATES))
    if group is not None:
        statement = statement.where(Conversation.group == group)
    if operator_id is not None:
        statement = statement.where(Conversation.operator_id == operator_id)
    result = await session.exec(statement.order_by(col(Conversation.id)))
    return list(result.all())
