"""Whether a customer can be written to (they blocked the bot, or unblocked it).

A change is recorded on the customer and told to the operators in the open conversation's
place (the topic, or the feed under the card while nobody has accepted). A repeat of the same
state changes nothing and says nothing. Runs inside the caller's transaction; only enqueues.
"""

from __future__ import annotations

from html import escape
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
    notice: tuple[str, str] | None = None,
) -> bool:
    """Record the customer's reachability; True when it changed (and operators were told).

    `notice` names the texts (unreachable, reachable) to tell operators; by default the
    generic ones, with the platform's `reason` in brackets.
    """
    customer = await find_customer(session, channel, user)
    if customer is None or customer.id is None:
        return False  # never wrote to us: nothing to record, nobody to tell
    if customer.reachable == reachable:
        return False
    await set_customer_reachable(session, customer.id, reachable, reason)
    conversation = await find_open_conversation(session, customer.id)
    if conversation is not None:
        unreachable_key, reachable_key = notice or (
            "place.customer_unreachable",
            "place.customer_reachable",
        )
        if reachable:
            html = text(language, reachable_key)
        else:
            shown = f" ({escape(reason)})" if reason and notice is None else ""
            html = text(language, unreachable_key, reason=shown)
        await desk.notice(session, conversation, html)
    return True
