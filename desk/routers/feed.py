"""The Accept button of a card (in the Incoming feed or the group): an operator claims it.

A press is answered right after its one-UPDATE transaction commits, before any slow work; a
repeated press update is answered too (from what the first one did), since the first answer may
be the very call that failed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Update

from bridge.core.claims import accept
from bridge.core.texts import text
from desk.callbacks import AcceptCallback
from desk.private_places import accept_refusal
from desk.routers.shared import ALERT_LIMIT, fresh, group_of, remember_operator
from storage.conversations import get_conversation
from storage.models import ConversationState

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from desk.runtime import DeskRuntime

log = logging.getLogger(__name__)

#: An answer to a button press: (alert text or None, show_alert).
PressAnswer = tuple[str | None, bool]


async def answer_again(query: CallbackQuery, answer: PressAnswer) -> None:
    """Answer a repeated press update; refused when the first answer went through after all."""
    try:
        await query.answer(answer[0], show_alert=answer[1])
    except TelegramBadRequest as exc:
        log.debug("repeated callback %s not answered again: %s", query.id, exc)


async def _repeated_accept(
    session: AsyncSession, conversation_id: int, user_id: int, language: str, group: str
) -> PressAnswer:
    """What the first delivery of this accept did, to tell the presser again."""
    conversation = await get_conversation(session, conversation_id)
    if conversation is not None and conversation.group != group:
        return text(language, "alert.not_operator"), True
    if conversation is None or conversation.state == ConversationState.CLOSED:
        return text(language, "alert.closed"), True
    if conversation.operator_id == user_id:
        return text(language, "alert.accepted"), False
    if conversation.state == ConversationState.ACCEPTED:
        answer = text(language, "alert.already_accepted", operator=conversation.operator_name)
        return answer[:ALERT_LIMIT], True
    return None, False


async def on_accept(
    query: CallbackQuery,
    callback_data: AcceptCallback,
    event_update: Update,
    runtime: DeskRuntime,
) -> None:
    language = runtime.config.language
    chat_id = query.message.chat.id if query.message else 0
    user = query.from_user
    group = runtime.config.group_for_chat(chat_id)
    if group is None or not await runtime.is_operator(chat_id, user.id, proven_member=False):
        await query.answer(text(language, "alert.not_operator"), show_alert=True)
        return
    if group.mode == "private" and (refusal := await accept_refusal(runtime, user.id)):
        await query.answer(refusal[:ALERT_LIMIT], show_alert=True)  # stays in the feed
        return
    again: PressAnswer | None = None
    async with runtime.transaction() as session:
        if await fresh(session, event_update):
            await remember_operator(session, user, group_of(runtime, chat_id))
            outcome = await accept(
                session,
                callback_data.conversation,
                user.id,
                user.full_name,
                desk=runtime.desk,
                group=group.name,
            )
        else:
            again = await _repeated_accept(
                session, callback_data.conversation, user.id, language, group.name
            )
    if again is not None:
        await answer_again(query, again)
    elif outcome.status == "won":
        await query.answer(text(language, "alert.accepted"))
    elif outcome.status == "foreign":
        log.warning(
            "accept of conversation %s (another group's) refused for user %s in chat %s",
            callback_data.conversation,
            user.id,
            chat_id,
        )
        await query.answer(text(language, "alert.not_operator"), show_alert=True)
    elif outcome.status == "taken":
        answer = text(language, "alert.already_accepted", operator=outcome.operator_name)
        await query.answer(answer[:ALERT_LIMIT], show_alert=True)
    else:
        await query.answer(text(language, "alert.closed"), show_alert=True)


def feed_router() -> Router:
    """The Accept button's router (a new one per dispatcher)."""
    router = Router(name="desk-feed")
    router.callback_query.register(on_accept, AcceptCallback.filter())
    return router
