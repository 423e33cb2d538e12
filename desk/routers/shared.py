"""What the desk's routers share: filters, the update's dedup, answering where a command was given.

Every handler records the update as processed in the same transaction as its effects
(`fresh`), so a repeated update (a redelivered webhook, a restart before the offset was saved)
changes nothing. Filters are coroutines: aiogram runs a plain callable (a magic filter `F....`)
in a thread of its own (`asyncio.to_thread`) for every update it looks at. Handlers and filters
get the runtime as the dispatcher's workflow data `runtime` (desk/routers/__init__.py).
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from aiogram.enums import ChatType
from aiogram.types import Message, Update

from botapi import calls
from botapi.updates import UPDATE_SOURCE
from storage.conversations import open_conversations
from storage.links import conversation_for_group_message
from storage.models import ConversationState
from storage.operators import add_operator_groups, upsert_operator
from storage.state import mark_event_processed

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from desk.runtime import DeskRuntime
    from storage.models import Conversation, Operator

PLACE_COMMANDS = frozenset({"close", "release", "transfer", "history", "block", "unblock"})
ANYWHERE_COMMANDS = frozenset({"my", "help"})
ALERT_LIMIT = 200


def command_of(message: Message, bot_username: str | None) -> str | None:
    """ "/close@bot args" → "close"; None for anything else (or a command for another bot)."""
    body = message.text or ""
    if not body.startswith("/"):
        return None
    word = body.split(maxsplit=1)[0][1:]
    name, _, target = word.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return name.lower() or None


def alert_text(html_text: str) -> str:
    """An HTML text as an answerCallbackQuery alert: plain (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))[:ALERT_LIMIT]


async def fresh(session: AsyncSession, event_update: Update) -> bool:
    """Record the update as processed; False when it was seen before (do nothing)."""
    return await mark_event_processed(session, UPDATE_SOURCE, event_update.update_id)


async def bot_username(runtime: DeskRuntime) -> str | None:
    assert runtime.bot is not None
    me = await runtime.bot.me()
    return me.username


async def in_desk_group(message: Message, runtime: DeskRuntime) -> bool:
    """Filter: a message in one of the operators' groups."""
    return runtime.config.group_for_chat(message.chat.id) is not None


async def remember_operator(
    session: AsyncSession, user: object, groups: set[str] | None = None
) -> Operator:
    """Record the operator, and `groups` (config names) they were seen to belong to: a
    private ping about a group's new inquiry goes only to that group's operators."""
    operator = await upsert_operator(
        session,
        user.id,  # type: ignore[attr-defined]
        user.full_name,  # type: ignore[attr-defined]
        username=user.username,  # type: ignore[attr-defined]
        language=user.language_code,  # type: ignore[attr-defined]
    )
    if groups:
        await add_operator_groups(session, operator.id, groups)
    return operator


def group_of(runtime: DeskRuntime, chat_id: int) -> set[str]:
    """The name of the operators' group `chat_id` is, as a set (empty for another chat)."""
    group = runtime.config.group_for_chat(chat_id)
    return {group.name} if group is not None else set()


async def customer_channel(session: AsyncSession, conversation: Conversation) -> str:
    from storage.models import Customer

    customer = await session.get(Customer, conversation.customer_id)
    assert customer is not None
    return customer.channel


async def conversation_of_place(
    session: AsyncSession, runtime: DeskRuntime, message: Message
) -> Conversation | None:
    """The conversation a group message belongs to: its topic, or the message it replies to."""
    group = runtime.config.group_for_chat(message.chat.id)
    if group is None or group.mode == "private":
        return None  # private: the places are private topics (desk/routers/private.py)
    if group.mode == "topics":
        thread = message.message_thread_id if message.is_topic_message else None
        if thread is None:
            return None
        for conversation in await open_conversations(session, group=group.name):
            if conversation.topic_id == thread:
                return conversation
        return None
    replied = message.reply_to_message
    if replied is None:
        return None
    return await conversation_for_group_message(session, message.chat.id, replied.message_id)


async def topic_being_made(session: AsyncSession, runtime: DeskRuntime, message: Message) -> bool:
    """Whether `message` is in a topic of a `topics` group that may be a conversation's new
    topic the bridge has not stored yet: a topic message outside the Incoming feed while an
    accepted conversation of the group still waits for its topic."""
    group = runtime.config.group_for_chat(message.chat.id)
    if group is None or group.mode != "topics" or not message.is_topic_message:
        return False
    if message.message_thread_id in (None, group.incoming_topic):
        return False
    return any(
        conversation.state == ConversationState.ACCEPTED and conversation.topic_id is None
        for conversation in await open_conversations(session, group=group.name)
    )


async def answer(session: AsyncSession, message: Message, html: str, **extra: Any) -> None:
    """Answer a command where it was given (through the outbox, like every post)."""
    from bridge import outbox

    thread = message.message_thread_id if message.is_topic_message else None
    payload = calls.send_text(
        message.chat.id, html, thread_id=thread, reply_to=message.message_id, **extra
    )
    await outbox.enqueue(
        session,
        platform="telegram",
        destination=str(message.chat.id),
        lane=f"tg:{message.chat.id}:answers"
        if thread is None
        else f"tg:{message.chat.id}:t{thread}",
        kind="answer",
        payload=payload,
        priority=outbox.PRIORITY_REPLY,
    )


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE
