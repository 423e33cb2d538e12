"""What the Telegram desk does for customers of the other platforms (VK, Viber, Facebook).

- `customer.reply_tracked`: the outbox handler of a reply sent through an adapter's sender. On
  success it records the platform's message ids (table `sent_messages`, with our message id)
  so delivery receipts find the message (bridge/core/sink.py); on failure it does what every
  failed reply does (completions.reply_failed: the message is marked, the operator told).
- `TelegramCustomerRefresh`: a name learned later. A card still waiting for Accept is replaced
  by a fresh one with the coloured avatar (the Bot API cannot swap a photo without
  editMessageMedia, which the bridge does not use); an accepted card gets the name in its
  caption and the forum topic is renamed (editForumTopic, through the outbox).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from botapi import calls
from bridge import outbox
from bridge.core.cards import topic_name
from bridge.core.reply_handlers import ReplyHandler
from desk import completions
from storage.conversations import set_card
from storage.messages import get_message, set_delivery_state
from storage.models import ConversationState, DeliveryState
from storage.sent import record_sent

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox import HandlerRegistry
    from desk.telegram_desk import TelegramDesk
    from storage.models import Conversation, Customer, OutboxItem


async def reply_tracked(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    if item.message_id is None:
        return
    ids = [str(i) for i in (result.get("message_ids") or [result.get("message_id")]) if i]
    await record_sent(session, item.platform, ids, item.message_id)
    message = await get_message(session, item.message_id)
    if message is not None and message.delivery_state in (
        DeliveryState.PENDING,
        DeliveryState.FAILED,
    ):
        await set_delivery_state(session, item.message_id, DeliveryState.SENT)


def register_customer_side(registry: HandlerRegistry, desk: TelegramDesk) -> None:
    """Register the handler of the VK, Viber and Facebook replies (failures: reply_failed)."""
    registry.register(
        ReplyHandler.TRACKED,
        done=reply_tracked,
        failed=partial(completions.reply_failed, desk),
    )


class TelegramCustomerRefresh:
    """`bridge.core.sink.CustomerRefresh` of the Telegram desk."""

    def __init__(self, desk: TelegramDesk) -> None:
        self.desk = desk

    async def renamed(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        desk = self.desk
        group = desk.group(conversation)
        if conversation.state == ConversationState.NEW and conversation.card_message_id:
            await desk.enqueue(
                session,
                conversation,
                chat_id=group.chat_id,
                lane=f"tg:{group.chat_id}:card:{conversation.id}",
                kind="call",
                payload=calls.call(
                    "deleteMessage",
                    chat_id=conversation.card_chat_id or group.chat_id,
                    message_id=conversation.card_message_id,
                ),
                priority=outbox.PRIORITY_INQUIRY,
            )
            # No card until the new one is posted: edits meanwhile wait for it (card_posted).
            await set_card(session, conversation.id or 0, group.chat_id, None)
            await desk.post_card(session, conversation, customer)
            return
        # A queued card re-renders its caption when it is posted (completions.card_posted).
        await desk.update_card(session, conversation, customer)
        if group.mode == "topics" and conversation.topic_id is not None:
            title = topic_name(
                desk.customer_name(customer), desk.source_name(customer.channel), desk.language
            )
            await desk.enqueue(
                session,
                conversation,
                chat_id=group.chat_id,
                lane=desk.place_lane(conversation),
                kind="call",
                payload=calls.call(
                    "editForumTopic",
                    chat_id=group.chat_id,
                    message_thread_id=conversation.topic_id,
                    name=title,
                ),
            )
