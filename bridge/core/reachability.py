"""Whether a customer can be written to (they blocked the bot, or unblocked it).

A change is recorded on the customer and told to the operators in the open conversation's
place (the topic, or the feed under the card while nobody has accepted). A repeat of the same
state changes nothing and says nothing. Runs inside the caller's transaction; only enqueues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.core.texts import text
from storage.conversations import find_open_conversation
from storage.customers import find_customer, set_customer_reachable

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk


async def set_reachability(
    session: AsyncSession,
    channel: str,
    user: str,
    reachable: bool,
    *,
    reason: str | None = None,
    desk: Desk,
    language: str,
) -> bool:
    """Record the customer's reachability; True when it changed (and operators were told)."""
    customer = await find_customer(session, channel, user)
    if customer is None or customer.id is None:
        return False  # never wrote to us: nothing to record, nobody to tell
    if customer.reachable == reachable:
        return False
    await set_customer_reachable(session, customer.id, reachable, reason)
    conversation = await find_open_conversation(session, customer.id)
    if conversation is not None:
        key = "place.customer_unblocked_bot" if reachable else "place.customer_blocked_bot"
        await desk.notice(session, conversation, text(language, key))
    return True
