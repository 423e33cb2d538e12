"""A customer's message, from any platform: dedup → customer → conversation → message → enqueue.

Runs inside the caller's transaction (the adapter commits, then acknowledges its platform).
The conversation row is locked before anything is decided, so an accept and a message that
arrive at the same moment are serialised: the message is either folded into the card before
the claim (and the claim's history includes it) or relayed after it — never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from storage.conversations import find_or_open_conversation
from storage.customers import upsert_customer
from storage.messages import find_message, mark_message_edited, store_inbound_message
from storage.models import Conversation, ConversationState, Customer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk
    from bridge.core.offline import HoursNow
    from bridge.core.ratings import Ratings
    from bridge.events import Inbound

InboundStatus = Literal["posted", "duplicate", "blocked", "edited", "unknown_edit", "rating"]


class DuplicateInbound(Exception):
    """A concurrent copy of this message was stored first: roll the transaction back."""


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What became of an inbound event.

    `unreachable` and `guest` describe the customer who wrote a new message ("posted" or
    "blocked"): marked unreachable before this message (writing makes them reachable again),
    and known by no name yet (the sink asks their platform later). The sink acts on them.
    """

    status: InboundStatus
    conversation_id: int | None = None
    message_id: int | None = None
    new_conversation: bool = False
    unreachable: bool = False
    guest: bool = False


async def lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation:
    """Re-read a conversation with its row locked until the transaction ends."""
    conversation = await session.get(
        Conversation, conversation_id, with_for_update=True, populate_existing=True
    )
    if conversation is None:
        raise LookupError(f"conversation #{conversation_id} does not exist")
    return conversation


async def handle_inbound(
    session: AsyncSession,
    event: Inbound,
    *,
    group: str,
    desk: Desk,
    hours: HoursNow | None = None,
    ratings: Ratings | None = None,
) -> InboundResult:
    """Store a customer's message and enqueue what operators must see; see the module doc.

    `ratings` first takes a rating press, number or comment out of the flow (status "rating").
    `hours`: the group's working hours now (bridge/core/offline.py): outside them a new
    conversation is marked and the customer gets the offline text once per closed spell.
    Raises DuplicateInbound when a concurrent transaction stored the same message first.
    """
    if ratings is not None and (rated := await ratings.take(session, event)) is not None:
        return rated
    if event.edit_of is not None:
        return await _handle_edit(session, event, desk=desk)
    if await find_message(session, event.channel, event.external_id) is not None:
        return InboundResult("duplicate")
    profile = event.profile
    customer = await upsert_customer(
        session,
        event.channel,
        event.user,
        event.chat,
        name=profile.full_name if profile else None,
        profile=profile,
    )
    found, is_new = await find_or_open_conversation(session, customer, group)
    assert found.id is not None
    conversation = await lock_conversation(session, found.id)
    message = await store_inbound_message(
        session,
        conversation,
        channel=event.channel,
        external_id=event.external_id,
        author=customer.name,
        text=event.text,
        attachments=event.attachments,
        created_at=event.sent_at,
        counted=not customer.blocked,
    )
    if message is None:
        raise DuplicateInbound(f"{event.channel}:{event.external_id}")
    unreachable, guest = not customer.reachable, not customer.name
    if customer.blocked:
        return InboundResult("blocked", conversation.id, message.id, is_new, unreachable, guest)
    if hours is not None and hours.closed:
        if is_new:
            await hours.opened(session, conversation)
        await hours.answer(session, [(conversation, customer)])
    if is_new:
        await desk.post_card(session, conversation, customer)
    elif conversation.state == ConversationState.NEW:
        await desk.update_card(session, conversation, customer)
    else:
        await desk.relay_inbound(session, conversation, customer, message)
    return InboundResult("posted", conversation.id, message.id, is_new, unreachable, guest)


async def _handle_edit(session: AsyncSession, event: Inbound, *, desk: Desk) -> InboundResult:
    assert event.edit_of is not None
    original = await find_message(session, event.channel, event.edit_of)
    if original is None or original.id is None:
        return InboundResult("unknown_edit")
    await mark_message_edited(session, original.id, event.text, event.sent_at)
    original.text = event.text
    conversation = await lock_conversation(session, original.conversation_id)
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    if customer.blocked or conversation.state == ConversationState.CLOSED:
        return InboundResult("edited", conversation.id, original.id)
    if conversation.state == ConversationState.NEW:
        await desk.update_card(session, conversation, customer)
    else:
        await desk.relay_edit(session, conversation, customer, original)
    return InboundResult("edited", conversation.id, original.id)
