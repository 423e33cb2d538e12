"""Platform ids of the replies we sent, so a delivery receipt finds our message.

A customer platform (VK, Viber, Facebook) reports "delivered"/"seen"/"failed" by its own
message id; the reply's completion handler records that id here when the send succeeds.
Keyed by the channel family ("vk:shop" and "vk" share "vk"): receipts name the platform.
Messenger's read receipts name no message, only a time ("everything before it was read"):
`unseen_sent_until` finds the replies that covers, in the database, so any process (and a
restarted one) resolves them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import Conversation, Customer, DeliveryState, Message, SentMessage
from storage.timeutil import utcnow

#: Longest platform id kept (the column's length); longer ids are cut the same way on read.
MAX_ID = 255


def _family(channel: str) -> str:
    return channel.split(":", 1)[0]


async def record_sent(
    session: AsyncSession, channel: str, external_ids: Iterable[str], message_id: int
) -> None:
    """Remember that the platform knows our message `message_id` by each of `external_ids`."""
    family = _family(channel)
    now = utcnow()
    for external_id in dict.fromkeys(str(i)[:MAX_ID] for i in external_ids):
        await session.exec(
            upsert_insert(session, SentMessage)
            .values(
                platform=family, external_id=external_id, message_id=message_id, created_at=now
            )
            .on_conflict_do_update(
                index_elements=["platform", "external_id"], set_={"message_id": message_id}
            )
        )


async def message_for_sent(session: AsyncSession, channel: str, external_id: str) -> int | None:
    """Our message id of the reply the platform of `channel` knows by `external_id`, if any."""
    row = await session.get(
        SentMessage, (_family(channel), str(external_id)[:MAX_ID]), populate_existing=True
    )
    return row.message_id if row is not None else None


async def unseen_sent_until(
    session: AsyncSession, channel: str, user: str, until: datetime
) -> list[str]:
    """The platform ids of our replies to the customer `user` of `channel` that were sent (and
    recorded) by `until` and are not yet seen or failed, oldest first."""
    result = await session.exec(
        select(SentMessage.external_id)
        .join(Message, col(Message.id) == SentMessage.message_id)
        .join(Conversation, col(Conversation.id) == Message.conversation_id)
        .join(Customer, col(Customer.id) == Conversation.customer_id)
        .where(
            SentMessage.platform == _family(channel),
            Customer.channel == channel,
            Customer.external_id == user,
            col(SentMessage.created_at) <= until,
            col(Message.delivery_state).in_(
                [DeliveryState.PENDING, DeliveryState.SENT, DeliveryState.DELIVERED]
            ),
        )
        .order_by(col(SentMessage.created_at), col(SentMessage.external_id))
    )
    return list(result.all())
