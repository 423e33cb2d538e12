"""Where a relayed message landed on the customer's platform (to edit it there later).

An operator's reply becomes one or more messages in the customer's chat; their platform ids
are recorded when the send succeeds, keyed by our message id (table `customer_copies`), so an
operator's later edit of the reply can edit the customer's copy — after a restart too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import CustomerCopyForm, CustomerCopyRow
from storage.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class CustomerCopy:
    """One platform message showing (part of) our message to the customer."""

    chat: str
    message_id: str
    #: "text" (edit the text) or "caption" (a media message: edit its caption) or "other".
    form: str


async def add_customer_copy(session: AsyncSession, message_id: int, copy: CustomerCopy) -> None:
    """Record one delivered copy of message `message_id` (a repeat of the same copy is a no-op)."""
    try:
        form = CustomerCopyForm(copy.form)
    except ValueError:
        raise ValueError(f"unknown copy form {copy.form!r}") from None
    await session.exec(
        upsert_insert(session, CustomerCopyRow)
        .values(
            message_id=message_id,
            chat=copy.chat,
            platform_message_id=copy.message_id,
            form=form.value,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["message_id", "chat", "platform_message_id"])
    )


async def customer_copies(session: AsyncSession, message_id: int) -> list[CustomerCopy]:
    """The delivered copies of message `message_id`, in the order they were sent."""
    result = await session.exec(
        select(CustomerCopyRow)
        .where(CustomerCopyRow.message_id == message_id)
        .order_by(col(CustomerCopyRow.id))
    )
    return [
        CustomerCopy(chat=row.chat, message_id=row.platform_message_id, form=row.form)
        for row in result.all()
    ]
