"""An operator's message in a conversation's place: the claimer's goes to the customer, anyone
else's is an internal note (stored, never relayed; its author is told once, quietly).

A reply to a customer who can no longer be reached (they blocked the bot, unsubscribed, denied
messages: `Customer.reachable`, kept in the database) is stored but not queued: it is marked
failed with the reason and the operator is told in the place. Replies flow again once the
customer is reachable again (they unblock, subscribe or write; bridge/core/reachability.py).

Runs inside the caller's transaction. Operator messages are stored under the channel
`DESK_CHANNEL` with the group message as external id, so a repeated update stores nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bridge.core.cards import escape
from bridge.core.texts import text
from bridge.events import Attachment, Outbound
from storage.customers import get_customer
from storage.messages import find_message, set_delivery_state, store_note, store_operator_reply
from storage.models import ConversationState, DeliveryState
from storage.state import kv_get, kv_set

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import CustomerOutlet, Desk
    from storage.models import Conversation, Customer, Message

#: The channel name of messages written by operators in the operators' group.
DESK_CHANNEL = "desk"

ReplyStatus = Literal["relayed", "note", "duplicate", "unreachable"]


@dataclass(frozen=True, slots=True)
class OperatorMessage:
    """An operator's message as the desk saw it (platform-free)."""

    external_id: str
    operator_id: int
    operator_name: str
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()


async def handle_operator_message(
    session: AsyncSession,
    conversation: Conversation,
    message: OperatorMessage,
    *,
    desk: Desk,
    outlet: CustomerOutlet,
    language: str,
) -> ReplyStatus:
    """Relay the claimer's message to the customer; store anyone else's as a note."""
    if await find_message(session, DESK_CHANNEL, message.external_id) is not None:
        return "duplicate"
    assert conversation.id is not None
    is_claimer = (
        conversation.state == ConversationState.ACCEPTED
        and conversation.operator_id == message.operator_id
    )
    if not is_claimer:
        await store_note(
            session,
            conversation.id,
            channel=DESK_CHANNEL,
            author=message.operator_name,
            text=message.text,
            attachments=message.attachments,
            external_id=message.external_id,
        )
        hint_key = f"note_hint:{conversation.id}:{message.operator_id}"
        if await kv_get(session, hint_key) is None:
            await kv_set(session, hint_key, "1")
            hint = text(language, "place.note_hint", operator=escape(message.operator_name))
            await desk.notice(session, conversation, hint, quiet=True)
        return "note"
    stored = await store_operator_reply(
        session,
        conversation.id,
        channel=DESK_CHANNEL,
        author=message.operator_name,
        text=message.text,
        attachments=message.attachments,
        external_id=message.external_id,
    )
    # Freshly read: the flag may have changed in another transaction since the session saw it.
    customer = await get_customer(session, conversation.customer_id)
    assert customer is not None
    if not customer.reachable:
        await _refuse_unreachable(session, conversation, customer, stored, desk, language)
        return "unreachable"
    outbound = Outbound(
        channel=customer.channel,
        chat=customer.chat,
        text=message.text,
        attachments=message.attachments,
        idempotency_key=f"{DESK_CHANNEL}:{message.external_id}",
    )
    await outlet.enqueue_reply(
        session, conversation, customer, stored, outbound, html=message.html
    )
    return "relayed"


async def _refuse_unreachable(
    session: AsyncSession,
    conversation: Conversation,
    customer: Customer,
    stored: Message,
    desk: Desk,
    language: str,
) -> None:
    """Keep the reply, marked failed with the reason, and tell the operator it was not sent."""
    assert stored.id is not None
    reason = customer.unreachable_reason
    shown = f" ({reason})" if reason else ""
    error = f"not sent: the customer can no longer be reached{shown}"
    await set_delivery_state(session, stored.id, DeliveryState.FAILED, error)
    notice = text(language, "place.reply_not_sent_unreachable", reason=escape(shown))
    await desk.notice(session, conversation, notice, quiet=True)
