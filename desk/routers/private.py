"""An operator in a topic of their private chat with the bot (`mode: private`, issue 16).

A direct handler (botapi/updates.py), installed before the operators' private commands and the
Telegram customers: it takes a message or an edit in a private topic from an operator of a
private-mode group. In the topic of a conversation they hold, what works in a group topic works
here: their messages go to the customer, edits follow, /close, /release, /transfer, /history,
/t, /block, /stats (of the conversation's group). Anything else in a private topic (a topic of
a conversation no longer theirs) is answered there, never passed to the customers' side; /my,
/help and /start are left to `private_command`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiogram.types import Message, Update

from botapi.messages import attachments_of, external_id
from bridge.core import quick_replies, stats
from bridge.core.operator_edits import handle_operator_edit
from bridge.core.replies import OperatorMessage, handle_operator_message
from bridge.core.texts import CustomerTexts, text
from bridge.hours import WorkingHours
from desk.routers.commands import (
    DESK_COMMANDS,
    GROUP_COMMANDS,
    QUICK_REPLY,
    _argument,
    _place_command,
)
from desk.routers.shared import (
    ANYWHERE_COMMANDS,
    answer,
    bot_username,
    command_of,
    customer_channel,
    fresh,
    is_private,
)
from storage.conversations import open_conversations
from storage.models import ConversationState

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from desk.runtime import DeskRuntime
    from storage.models import Conversation

log = logging.getLogger(__name__)


def private_groups(runtime: DeskRuntime) -> set[str]:
    return {g.name for g in runtime.config.groups.values() if g.mode == "private"}


async def conversation_in_topic(
    session: AsyncSession, groups: set[str], operator_id: int, thread: int
) -> Conversation | None:
    """The conversation `operator_id` holds whose place is topic `thread` of their chat."""
    for group in sorted(groups):
        for conversation in await open_conversations(session, group, operator_id):
            if (
                conversation.state == ConversationState.ACCEPTED
                and conversation.topic_id == thread
            ):
                return conversation
    return None


def _operator_message(message: Message) -> OperatorMessage:
    user = message.from_user
    assert user is not None
    words = message.text or message.caption
    return OperatorMessage(
        external_id=external_id(message.chat.id, message.message_id),
        operator_id=user.id,
        operator_name=user.full_name,
        text=words or "",
        html=message.html_text if words else None,
        attachments=attachments_of(message),
    )


async def private_place_update(runtime: DeskRuntime, update: Update) -> bool:
    """Take an operator's message or edit in a private topic; False leaves the update."""
    message = update.message or update.edited_message
    if message is None or not is_private(message) or not message.is_topic_message:
        return False
    groups = private_groups(runtime)
    user = message.from_user
    thread = message.message_thread_id
    if not groups or user is None or user.is_bot or thread is None:
        return False
    command = command_of(message, await bot_username(runtime))
    if update.message is not None and command in ANYWHERE_COMMANDS | {"start"}:
        return False  # private_command answers these
    async with runtime.transaction() as session:
        conversation = await conversation_in_topic(session, groups, user.id, thread)
    if conversation is None and not (await runtime.operator_groups_of(user.id)) & groups:
        return False  # not an operator: a customer's own topic
    language = runtime.config.language
    if update.edited_message is not None:
        if command is None:
            await _edit(runtime, update, message)
        return True
    async with runtime.transaction() as session:
        if not await fresh(session, update):
            return True
        conversation = await conversation_in_topic(session, groups, user.id, thread)
        if conversation is None:
            await answer(session, message, text(language, "place.not_a_conversation"))
            return True
        if command == QUICK_REPLY and not _argument(message):
            reply = quick_replies.list_templates(runtime.config.templates, language)
            await answer(session, message, reply.html)
            return True
        if command in GROUP_COMMANDS:  # /stats: of the conversation's group
            group = runtime.desk.group(conversation)
            reply = await stats.group_stats(
                session,
                group.name,
                hours=WorkingHours(group.hours),
                now=datetime.now(UTC),
                language=language,
            )
            await answer(session, message, reply.html)
            return True
        if command in DESK_COMMANDS:
            assert command is not None
            wait = runtime.history_limit.take(user.id) if command == "history" else None
            if wait is not None:
                if wait.tell:
                    html = text(language, "place.history_wait", seconds=wait.seconds)
                    await answer(session, message, html)
                return True
            await _place_command(session, runtime, message, conversation, command)
            return True
        outlet = runtime.outlets.for_channel(await customer_channel(session, conversation))
        await handle_operator_message(
            session,
            conversation,
            _operator_message(message),
            desk=runtime.desk,
            outlet=outlet,
            language=language,
        )
    return True


async def _edit(runtime: DeskRuntime, update: Update, message: Message) -> None:
    async with runtime.transaction() as session:
        if not await fresh(session, update):
            return
        status = await handle_operator_edit(
            session,
            _operator_message(message),
            outlets=runtime.outlets,
            language=runtime.config.language,
            texts=CustomerTexts(runtime.config.texts.override),
        )
    log.debug("operator edit of %s in a private topic: %s", message.message_id, status)
