"""Erasing one customer's personal data (issue 17): messages, profile, message payloads.

What stays: the customer row (anonymised: no name, profile, platform id or chat) and its
conversations (their times, states and ratings feed the counters and /stats), with the
rating's comment removed. The messages go (their delivery records and copies with them, by
foreign key); the outbox rows of those conversations that are not being sent right now go
too (their payloads hold the texts). Runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation, Customer, Message, OutboxItem, OutboxState
from storage.timeutil import utcnow

#: The platform id a forgotten customer keeps: unique per row, tied to nobody.
FORGOTTEN_PREFIX = "forgotten:"


@dataclass(frozen=True, slots=True)
class Erased:
    """What one erasure removed (counts)."""

    messages: int = 0
    conversations: int = 0
    outbox: int = 0
    profile: bool = False


async def customer_conversations(session: AsyncSession, customer_id: int) -> list[Conversation]:
    """The customer's conversations, oldest first, freshly read."""
    result = await session.exec(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(col(Conversation.id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def erase_customer(session: AsyncSession, customer: Customer, reason: str) -> Erased:
    """Remove the customer's messages and profile; the customer stays, unreachable for
    `reason`, under a platform id nobody has (a new message of theirs makes a new customer)."""
    assert customer.id is not None
    conversations = [c.id for c in await customer_conversations(session, customer.id)]
    messages = 0
    outbox = 0
    if conversations:
        counted = await session.exec(
            select(func.count()).where(col(Message.conversation_id).in_(conversations))
        )
        messages = int(counted.one())
        await session.exec(delete(Message).where(col(Message.conversation_id).in_(conversations)))
        gone = await session.exec(
            delete(OutboxItem).where(
                col(OutboxItem.conversation_id).in_(conversations),
                col(OutboxItem.state) != OutboxState.LEASED,
            )
        )
        outbox = int(gone.rowcount or 0)
        await session.exec(
            update(Conversation)
            .where(col(Conversation.id).in_(conversations))
            .values(rating_comment=None)
        )
    profile = bool(customer.name or customer.profile or customer.language)
    await session.exec(
        update(Customer)
        .where(col(Customer.id) == customer.id)
        .values(
            external_id=f"{FORGOTTEN_PREFIX}{customer.id}",
            chat=f"{FORGOTTEN_PREFIX}{customer.id}",
            name=None,
            profile=None,
            language=None,
            avatar_file_id=None,
            reachable=False,
            unreachable_reason=reason,
            updated_at=utcnow(),
        )
    )
    return Erased(messages, len(conversations), outbox, profile)


def is_forgotten(customer: Customer) -> bool:
    """Whether the customer's data was erased already."""
    return customer.external_id.startswith(FORGOTTEN_PREFIX)
