"""An operator's message in a conversation's place (its topic, or a reply in the group): relayed
to the customer.

The router takes every message in an operators' group that the commands' router did not
(desk/routers/__init__.py includes that one first).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.types import Message, Update

from botapi.messages import attachments_of, external_id
from bridge.core.replies import OperatorMessage, handle_operator_message
from desk.routers.shared import (
    conversation_of_place,
    customer_channel,
    fresh,
    group_of,
    in_desk_group,
    remember_operator,
    topic_being_made,
)
from storage.models import ConversationState

if TYPE_CHECKING:
    from desk.runtime import DeskRuntime


#: An operator may write in a topic the moment Telegram shows it, before the bridge has
#: stored it (createForumTopic's answer is recorded when it reaches the bridge): while a
#: topic of the group is being made, such a message is held and looked up again this long.
NEW_TOPIC_PATIENCE = 5.0
NEW_TOPIC_RETRY = 0.2


class _PlaceNotKnownYet(Exception):
    """The message's topic is not known yet, but one is being made: look again shortly."""


async def on_group_message(message: Message, event_update: Update, runtime: DeskRuntime) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    is_operator = await runtime.is_operator(message.chat.id, user.id, proven_member=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NEW_TOPIC_PATIENCE
    while True:
        try:
            await _on_group_message(
                message, event_update, runtime, is_operator, hold=loop.time() < deadline
            )
            return
        except _PlaceNotKnownYet:
            await asyncio.sleep(NEW_TOPIC_RETRY)


async def _on_group_message(
    message: Message,
    event_update: Update,
    runtime: DeskRuntime,
    is_operator: bool,
    *,
    hold: bool,
) -> None:
    user = message.from_user
    assert user is not None
    async with runtime.transaction() as session:
        if not await fresh(session, event_update):
            return
        conversation = await conversation_of_place(session, runtime, message)
        if conversation is None:
            if hold and await topic_being_made(session, runtime, message):
                raise _PlaceNotKnownYet  # rolled back: the update is not marked processed
            return
        await remember_operator(
            session, user, group_of(runtime, message.chat.id) if is_operator else None
        )
        if conversation.state == ConversationState.CLOSED:
            return
        customer_outlet = runtime.outlets.for_channel(
            await customer_channel(session, conversation)
        )
        await handle_operator_message(
            session,
            conversation,
            OperatorMessage(
                external_id=external_id(message.chat.id, message.message_id),
                operator_id=user.id,
                operator_name=user.full_name,
                text=message.text or message.caption or "",
                html=(message.html_text if (message.text or message.caption) else None),
                attachments=attachments_of(message),
            ),
            desk=runtime.desk,
            outlet=customer_outlet,
            language=runtime.config.language,
        )


def topics_router() -> Router:
    """The router of operators' messages in the groups (a new one per dispatcher)."""
    router = Router(name="desk-topics")
    router.message.register(on_group_message, in_desk_group)
    return router
