"""An operator edited a message in an operators' group: a relayed reply's edit follows it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.types import Message, Update

from botapi.messages import external_id
from bridge.core.operator_edits import handle_operator_edit
from bridge.core.replies import OperatorMessage
from bridge.core.texts import CustomerTexts
from desk.routers.shared import bot_username, command_of, fresh, in_desk_group

if TYPE_CHECKING:
    from desk.runtime import DeskRuntime

log = logging.getLogger(__name__)


async def on_group_edit(message: Message, event_update: Update, runtime: DeskRuntime) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    if command_of(message, await bot_username(runtime)) is not None:
        log.debug("edited command %s ignored", message.message_id)
        return
    async with runtime.transaction() as session:
        if not await fresh(session, event_update):
            return
        status = await handle_operator_edit(
            session,
            OperatorMessage(
                external_id=external_id(message.chat.id, message.message_id),
                operator_id=user.id,
                operator_name=user.full_name,
                text=message.text or message.caption or "",
                html=(message.html_text if (message.text or message.caption) else None),
            ),
            outlets=runtime.outlets,
            language=runtime.config.language,
            texts=CustomerTexts(runtime.config.texts.override),
        )
    log.debug("operator edit of %s: %s", message.message_id, status)


def edits_router() -> Router:
    """The router of operators' edits in the groups (a new one per dispatcher)."""
    router = Router(name="desk-edits")
    router.edited_message.register(on_group_edit, in_desk_group)
    return router
