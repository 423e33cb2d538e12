"""An operator edited a message in a conversation's place: follow the edit to the customer.

The claimer's relayed reply is edited on the customer's platform where the outlet can
(`EditingOutlet`: Telegram edits the customer's copy); elsewhere — or when the copy cannot be
edited — the customer gets a correction ("Correction: …") in their language. An edited note
is only updated in the database: notes never leave the group. An edit is followed only while
its editor is the current claimer of the open conversation: an operator who released, passed on
or closed a conversation no longer writes to its customer (the edit is logged and ignored, and
the stored text stays what the customer got). Runs inside the caller's transaction and only
enqueues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bridge.core.desk import EditingOutlet
from bridge.core.replies import DESK_CHANNEL, OperatorMessage
from bridge.core.texts import CustomerTexts
from storage.messages import find_message, mark_message_edited
from storage.models import Conversation, ConversationState, Customer, Direction

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Outlets

EditStatus = Literal["edited", "corrected", "note", "unchanged", "unknown", "not_claimer"]


async def handle_operator_edit(
    session: AsyncSession,
    edit: OperatorMessage,
    *,
    outlets: Outlets,
    language: str,
    texts: CustomerTexts | None = None,
) -> EditStatus:
    """Store the new text of an operator's message and follow it to the customer if relayed.

    `edit.external_id` names the edited group message (the same id its first version had).
    `texts`: the customer texts with the admin's overrides (the correction's wording).
    """
    stored = await find_message(session, DESK_CHANNEL, edit.external_id)
    if stored is None or stored.id is None:
        return "unknown"  # written before the conversation was accepted, or not ours
    if (stored.text or "") == edit.text:
        return "unchanged"
    conversation = await session.get(Conversation, stored.conversation_id)
    assert conversation is not None
    if stored.direction == Direction.OUT and (
        conversation.state != ConversationState.ACCEPTED
        or conversation.operator_id != edit.operator_id
    ):
        return "not_claimer"
    await mark_message_edited(session, stored.id, edit.text)
    stored.text = edit.text
    if stored.direction != Direction.OUT:
        return "note"
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    outlet = outlets.for_channel(customer.channel)
    if isinstance(outlet, EditingOutlet) and await outlet.enqueue_edit(
        session, conversation, customer, stored, html=edit.html
    ):
        return "edited"
    customer_text = texts or CustomerTexts()
    correction = customer_text(customer.language or language, "edited", text=edit.text)
    await outlet.enqueue_text(session, conversation, customer, correction)
    return "corrected"
