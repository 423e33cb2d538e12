"""What happens when the desk's outbox rows are sent (or fail for good).

Handlers run in the worker's mark-done transaction (bridge/outbox/handlers.py): they record
the message ids Telegram gave (links live in the database), and enqueue what must follow
(the history once a topic exists, a card edit if the card changed while it was queued).
A deleted or closed topic never traps a customer: the bridge makes a new one (or reopens it)
and carries on. `register_completions(registry, desk)` registers them, at wiring time, on the
runtime's registry under the names below, each bound to the desk (config) it serves.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from botapi import calls
from bridge import outbox
from bridge.core.cards import escape
from bridge.core.reply_handlers import ReplyHandler
from bridge.core.texts import CustomerTexts, text
from bridge.errors import PermanentError, PlaceClosed, PlaceGone, RecipientUnreachable
from desk.private_places import open_private_place, topic_made, topic_refused
from storage.avatars import put_avatar_file_id
from storage.conversations import get_conversation, set_card, set_topic
from storage.copies import CustomerCopy, add_customer_copy
from storage.customers import set_customer_reachable
from storage.links import add_link
from storage.messages import get_message, set_delivery_state
from storage.models import ConversationState, Customer, DeliveryState, LinkKind

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox import HandlerRegistry
    from desk.telegram_desk import TelegramDesk
    from storage.models import Conversation, OutboxItem

log = logging.getLogger(__name__)


class DeskHandler(StrEnum):
    """Handler names of the desk's own rows (desk/telegram_desk.py enqueues them)."""

    CARD_POSTED = "desk.card_posted"
    TOPIC_CREATED = "desk.topic_created"
    COPY_POSTED = "desk.copy_posted"
    NOTICE_POSTED = "desk.notice_posted"
    TOPIC_REOPENED = "desk.topic_reopened"
    TOPIC_CLOSED = "desk.topic_closed"


#: Send methods whose message has a caption an edit can change.
CAPTIONED = frozenset(method for method, _ in calls.MEDIA_METHODS.values()) - {"sendSticker"}


async def _conversation(session: AsyncSession, item: OutboxItem) -> Conversation | None:
    if item.conversation_id is None:
        return None
    return await get_conversation(session, item.conversation_id)


def _chat_id(item: OutboxItem) -> int:
    return int(item.payload["params"]["chat_id"])


def _ctx(item: OutboxItem) -> dict[str, Any]:
    return item.payload.get("ctx") or {}


async def card_posted(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, result: dict[str, Any]
) -> None:
    message_id = result.get("message_id")
    conversation = await _conversation(session, item)
    if conversation is None or conversation.id is None or message_id is None:
        return
    chat_id = _chat_id(item)
    await set_card(session, conversation.id, chat_id, message_id)
    await add_link(session, conversation.id, chat_id, message_id, LinkKind.CARD)
    photos = (result.get("result") or {}).get("photo") or []
    key = _ctx(item).get("avatar_key")
    if "files" in item.payload and photos and key:
        await put_avatar_file_id(session, key, photos[-1]["file_id"])
    conversation = await get_conversation(session, conversation.id)
    assert conversation is not None
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    caption, _ = await desk.card_content(session, conversation, customer)
    if caption != item.payload["params"].get("caption"):
        await desk.update_card(session, conversation, customer)
    if conversation.state == ConversationState.NEW:
        await desk.ping_operators(session, conversation, customer)


async def topic_created(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, result: dict[str, Any]
) -> None:
    thread_id = (result.get("result") or {}).get("message_thread_id")
    conversation = await _conversation(session, item)
    if conversation is None or conversation.id is None or thread_id is None:
        return
    if desk.group(conversation).mode == "private":
        if not await topic_made(desk, session, conversation, _chat_id(item), thread_id):
            return
    else:
        await set_topic(session, conversation.id, thread_id)
    conversation = await get_conversation(session, conversation.id)
    assert conversation is not None
    if conversation.state != ConversationState.ACCEPTED:
        return
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    await desk.post_history(session, conversation, customer)
    if _ctx(item).get("recreated"):
        await desk.notice(session, conversation, text(desk.language, "place.topic_recreated"))
    await desk.update_card(session, conversation, customer)


async def topic_failed(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, error: PermanentError
) -> None:
    """A topic was refused: a private one returns the conversation to the feed."""
    conversation = await _conversation(session, item)
    if conversation is not None and desk.group(conversation).mode == "private":
        await topic_refused(desk, session, conversation, _chat_id(item))
    else:
        log.warning("topic for conversation %s refused: %s", item.conversation_id, error.reason)


async def copy_posted(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    message_id = result.get("message_id")
    if item.conversation_id is None or message_id is None:
        return
    kind = LinkKind.HISTORY if _ctx(item).get("link") == "history" else LinkKind.CUSTOMER_COPY
    await add_link(
        session,
        item.conversation_id,
        _chat_id(item),
        message_id,
        kind,
        message_id=item.message_id,
        topic_id=_ctx(item).get("topic"),
    )


async def notice_posted(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    message_id = result.get("message_id")
    if item.conversation_id is None or message_id is None:
        return
    await add_link(
        session,
        item.conversation_id,
        _chat_id(item),
        message_id,
        LinkKind.NOTICE,
        topic_id=_ctx(item).get("topic"),
    )


async def topic_reopened(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    log.debug("topic reopened for conversation %s", item.conversation_id)


async def topic_closed(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    log.debug("topic closed for conversation %s", item.conversation_id)


async def _recover_place(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, error: PermanentError
) -> None:
    """A post into a topic failed: a deleted topic is replaced, a closed one reopened.

    The sender's error mapping (botapi/sender.py `map_error`) says which: `PlaceGone` or
    `PlaceClosed`; any other refusal is only logged.
    """
    conversation = await _conversation(session, item)
    if conversation is None or conversation.id is None:
        return
    failed_thread = item.payload.get("params", {}).get("message_thread_id")
    if isinstance(error, PlaceGone):
        if conversation.topic_id is None or conversation.topic_id != failed_thread:
            return  # already replaced by an earlier failure
        await set_topic(session, conversation.id, None)
        conversation = await get_conversation(session, conversation.id)
        assert conversation is not None
        if conversation.state != ConversationState.ACCEPTED:
            return
        customer = await session.get(Customer, conversation.customer_id)
        assert customer is not None
        group = desk.group(conversation)
        if group.mode == "private":  # the operator deleted the topic: a new one, with history
            if _chat_id(item) == conversation.operator_id:
                await open_private_place(desk, session, conversation, customer)
            return
        from bridge.core.cards import topic_name  # local: only the recovery path needs it

        await desk.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=desk.place_lane(conversation),
            kind="topic",
            payload=calls.call(
                "createForumTopic",
                chat_id=group.chat_id,
                name=topic_name(
                    desk.customer_name(customer), desk.source_name(customer.channel), desk.language
                ),
            ),
            handler=DeskHandler.TOPIC_CREATED,
            ctx={"recreated": True},
        )
        log.info(
            "topic %s of conversation #%s is gone; making a new one",
            failed_thread,
            conversation.id,
        )
        return
    if isinstance(error, PlaceClosed) and failed_thread:
        group = desk.group(conversation)
        lane = desk.place_lane(conversation)
        await desk.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=lane,
            kind="call",
            payload=calls.call(
                "reopenForumTopic", chat_id=group.chat_id, message_thread_id=failed_thread
            ),
            handler=DeskHandler.TOPIC_REOPENED,
        )
        payload = {k: v for k, v in item.payload.items()}
        await desk.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=lane,
            kind=item.kind if item.kind != outbox.KIND_TEXT else "notice",
            payload=payload,
            handler=item.handler,
            message_id=item.message_id,
        )
        return
    log.warning("desk post for conversation #%s failed: %s", conversation.id, error.reason)


async def reply_sent(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    if item.message_id is None:
        return
    await set_delivery_state(session, item.message_id, DeliveryState.SENT)
    sent_id = result.get("message_id")
    if item.platform == "telegram" and sent_id is not None:
        # Where the reply landed: an operator's later edit edits this copy (storage/copies.py).
        method = str(item.payload.get("method", ""))
        form = "text" if method == "sendMessage" else "caption" if method in CAPTIONED else "other"
        copy = CustomerCopy(chat=str(_chat_id(item)), message_id=str(sent_id), form=form)
        await add_customer_copy(session, item.message_id, copy)


async def edit_sent(session: AsyncSession, item: OutboxItem, result: dict[str, Any]) -> None:
    log.debug("edit of message %s reached the customer", item.message_id)


async def edit_failed(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, error: PermanentError
) -> None:
    """Telegram refused to edit the customer's copy (too old, deleted): send a correction."""
    conversation = await _conversation(session, item)
    message = await get_message(session, item.message_id) if item.message_id else None
    if conversation is None or message is None:
        return
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    if isinstance(error, RecipientUnreachable):
        await reply_failed(desk, session, item, error)
        return
    log.info("edit of message %s refused (%s); sending a correction", message.id, error.reason)
    texts = CustomerTexts(desk.config.texts.override)
    correction = texts(customer.language or desk.language, "edited", text=message.text)
    payload = calls.send_text(customer.chat, escape(correction))
    await outbox.enqueue(
        session,
        platform="telegram",
        destination=customer.chat,
        lane=item.lane,
        kind="reply",
        payload=payload,
        priority=outbox.PRIORITY_REPLY,
        handler=ReplyHandler.SENT,
        conversation_id=conversation.id,
    )


async def reply_failed(
    desk: TelegramDesk, session: AsyncSession, item: OutboxItem, error: PermanentError
) -> None:
    """A failed delivery shows up in the conversation's place and on the message."""
    reason = error.reason or str(error)
    if item.message_id is not None:
        await set_delivery_state(session, item.message_id, DeliveryState.FAILED, reason)
    conversation = await _conversation(session, item)
    if conversation is None:
        return
    if isinstance(error, RecipientUnreachable):
        await set_customer_reachable(session, conversation.customer_id, False, reason)
    html = text(desk.language, "place.delivery_failed", reason=escape(reason))
    await desk.notice(session, conversation, html)


def register_completions(registry: HandlerRegistry, desk: TelegramDesk) -> None:
    """Register the desk's completions and the Telegram/site customers' reply handlers."""
    registry.register(DeskHandler.CARD_POSTED, done=partial(card_posted, desk))
    registry.register(
        DeskHandler.TOPIC_CREATED,
        done=partial(topic_created, desk),
        failed=partial(topic_failed, desk),
    )
    recover = partial(_recover_place, desk)
    registry.register(DeskHandler.COPY_POSTED, done=copy_posted, failed=recover)
    registry.register(DeskHandler.NOTICE_POSTED, done=notice_posted, failed=recover)
    registry.register(DeskHandler.TOPIC_REOPENED, done=topic_reopened, failed=recover)
    registry.register(DeskHandler.TOPIC_CLOSED, done=topic_closed)
    registry.register(ReplyHandler.SENT, done=reply_sent, failed=partial(reply_failed, desk))
    registry.register(ReplyHandler.EDIT_SENT, done=edit_sent, failed=partial(edit_failed, desk))
