"""`mode: private` (issue 16): a conversation's place is a topic in its claimer's private chat.

Since Bot API 9.3 a bot with threaded mode on (BotFather; getMe `has_topics_enabled`) may
create topics in its private chat with a user who started it. The group keeps the feed, the
cards and the dashboard; each accept makes a topic in the claimer's private chat (its id in
`Conversation.topic_id`, its first message linked, which tells the chat: `topic_chat`), and the
history follows once it exists (completions.topic_created). A transfer posts the notice in the
old topic, marks it done and makes the new claimer's topic with the history (`follow_claimer`).
Private topics cannot be closed (closeForumTopic is a forum supergroup's), so a finished one is
renamed "✅ …" instead. Each private chat is paced by Telegram's per-chat limit (botapi/pacing.py:
a positive destination is a chat, about one message a second), not by the group's 20 a minute.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from botapi import calls
from bridge import outbox
from bridge.core.cards import topic_name
from bridge.core.texts import text
from storage.conversations import get_conversation, set_topic
from storage.models import ConversationState, Customer
from storage.operators import get_operator

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from desk.runtime import DeskRuntime
    from desk.telegram_desk import TelegramDesk
    from storage.models import Conversation

log = logging.getLogger(__name__)


def private_lane(chat_id: int, conversation: Conversation) -> str:
    """The outbox lane of a conversation's posts into one private chat."""
    return f"tg:{chat_id}:conv:{conversation.id}"


def private_topic_name(desk: TelegramDesk, conversation: Conversation, customer: Customer) -> str:
    """The topic's title in the operator's private chat: "#12 Ivan Petrov · VK"."""
    name = f"#{conversation.id} {desk.customer_name(customer)}"
    return topic_name(name, desk.source_name(customer.channel), desk.language)


async def open_private_place(
    desk: TelegramDesk, session: AsyncSession, conversation: Conversation, customer: Customer
) -> None:
    """A new topic in the claimer's private chat; the history follows once it exists."""
    from desk.completions import DeskHandler  # completions imports this module

    operator = conversation.operator_id
    if operator is None or conversation.id is None:
        return
    await set_topic(session, conversation.id, None)
    await get_conversation(session, conversation.id)  # the caller's object sees no topic now
    await desk.enqueue(
        session,
        conversation,
        chat_id=operator,
        lane=private_lane(operator, conversation),
        kind="topic",
        payload=calls.call(
            "createForumTopic",
            chat_id=operator,
            name=private_topic_name(desk, conversation, customer),
        ),
        priority=outbox.PRIORITY_INTERACTIVE,
        handler=DeskHandler.TOPIC_CREATED,
    )


async def close_private_place(
    desk: TelegramDesk, session: AsyncSession, conversation: Conversation
) -> None:
    """Mark the conversation's private topic done ("✅ …"): a private topic cannot be closed."""
    place = await desk.private_place(session, conversation)
    if place is None:
        return
    chat_id, thread_id = place
    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    title = text(
        desk.language,
        "topic.closed_name",
        name=private_topic_name(desk, conversation, customer),
    )
    await desk.enqueue(
        session,
        conversation,
        chat_id=chat_id,
        lane=private_lane(chat_id, conversation),
        kind="call",
        payload=calls.call(
            "editForumTopic", chat_id=chat_id, message_thread_id=thread_id, name=title[:128]
        ),
    )


async def follow_claimer(
    desk: TelegramDesk, session: AsyncSession, conversation: Conversation, customer: Customer
) -> None:
    """On a card change: a conversation back in the feed leaves its old topic (marked done);
    one whose claimer changed (a transfer) moves to the new claimer's private chat."""
    if conversation.topic_id is None or conversation.id is None:
        return
    if conversation.state == ConversationState.NEW:
        await close_private_place(desk, session, conversation)
        await set_topic(session, conversation.id, None)
        await get_conversation(session, conversation.id)
        return
    if conversation.state != ConversationState.ACCEPTED:
        return
    place = await desk.private_place(session, conversation)
    if place is None or place[0] == conversation.operator_id:
        return
    log.info("conversation #%s moves to operator %s", conversation.id, conversation.operator_id)
    await close_private_place(desk, session, conversation)
    await open_private_place(desk, session, conversation, customer)


async def topic_made(
    desk: TelegramDesk,
    session: AsyncSession,
    conversation: Conversation,
    chat_id: int,
    thread: int,
) -> bool:
    """A private topic exists: link it (its chat) and keep it if its chat is still the
    claimer's. False: the conversation changed hands meanwhile (the topic stays unused)."""
    from storage.links import add_link
    from storage.models import LinkKind

    assert conversation.id is not None
    if conversation.state != ConversationState.ACCEPTED or conversation.operator_id != chat_id:
        log.info("private topic %s of #%s is unused: claim changed", thread, conversation.id)
        return False
    await add_link(session, conversation.id, chat_id, thread, LinkKind.NOTICE, topic_id=thread)
    await set_topic(session, conversation.id, thread)
    return True


async def accept_refusal(runtime: DeskRuntime, user_id: int, *, own: bool = True) -> str | None:
    """Why `user_id` cannot take a conversation of a private-mode group now, or None.

    The bot needs threaded mode (BotFather) and the operator must have started the bot; `own`:
    the presser is that operator (else a /transfer target, named in the answer)."""
    language = runtime.config.language
    assert runtime.bot is not None
    me = await runtime.bot.me()
    if not me.has_topics_enabled:
        return text(language, "alert.private_no_topics")
    async with runtime.transaction() as session:
        operator = await get_operator(session, user_id)
    if operator is None or not operator.private_chat_started:
        if own:
            return text(language, "alert.private_start")
        name = operator.name if operator is not None else str(user_id)
        return text(language, "alert.private_target_start", operator=name)
    return None


async def topic_refused(
    desk: TelegramDesk, session: AsyncSession, conversation: Conversation, chat_id: int
) -> None:
    """Telegram refused the claimer's topic (they blocked the bot, or threaded mode was
    switched off): the conversation goes back to the feed with a fresh card, nothing lost,
    and their next Accept is answered with what to do."""
    from bridge.core.commands import Caller, release
    from storage.operators import set_private_chat_started

    if conversation.state != ConversationState.ACCEPTED or conversation.operator_id != chat_id:
        return
    log.warning("no private topic for #%s with operator %s", conversation.id, chat_id)
    await set_private_chat_started(session, chat_id, False)
    caller = Caller(chat_id, conversation.operator_name or str(chat_id))
    await release(session, conversation, caller, desk=desk, language=desk.language)
