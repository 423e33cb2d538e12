"""Telegram customers' updates → the core's sink: private messages, their edits, blocking the bot.

The same bot serves the operators' desk, so there is no adapter of its own: the composition
root installs this side on the shared updates intake (botapi/updates.py) after the desk's,
which takes the operators' own commands in private chats first. A new private message comes
through a direct handler (no aiogram dispatch: these are most of the bot's updates) and is
stored through the sink's group commit (bridge/core/sink_batches.py); an edit and a change of
the bot's membership in the private chat (the customer blocked or unblocked it) come through
the router below, with this object as the dispatcher's workflow data `telegram_customers`, and
so does a press of one of the bridge's buttons in the private chat (a rating's star): an
`Inbound` with its `action`, answered with answerCallbackQuery once stored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update

from adapters.telegram.convert import CHANNEL, press_to_inbound, to_inbound
from botapi.updates import UPDATE_SOURCE
from bridge.core.sink_batches import InboundBatches

if TYPE_CHECKING:
    from botapi.updates import UpdatesIntake
    from bridge.core.sink import BridgeSink

log = logging.getLogger(__name__)

#: What operators are told when a Telegram customer blocks (unblocks) the bot.
BLOCKED_NOTICES = ("place.customer_blocked_bot", "place.customer_unblocked_bot")


class TelegramCustomers:
    """Telegram customers in private chats with the bot, reported to `sink`."""

    def __init__(self, sink: BridgeSink) -> None:
        self.sink = sink
        self.batches = InboundBatches(sink, UPDATE_SOURCE)

    def install(self, intake: UpdatesIntake) -> None:
        """Serve Telegram customers from `intake`'s updates (after the desk's handlers)."""
        intake.dispatcher["telegram_customers"] = self
        intake.dispatcher.include_router(customers_router())
        intake.add_direct(self.new_private_message)
        intake.add_part(self.batches)

    async def new_private_message(self, update: Update) -> bool:
        """A direct handler: a customer's new private message, stored once committed."""
        message = update.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return False
        user = message.from_user
        if user is None or user.is_bot:
            return True
        await self.batches.inbound(to_inbound(message), update.update_id)
        return True

    async def edited(self, message: Message, update_id: int) -> None:
        await self.batches.inbound(to_inbound(message, edited=True), update_id)

    async def pressed(self, query: CallbackQuery, update_id: int) -> None:
        """A customer pressed one of the bridge's buttons (a rating's star)."""
        event = press_to_inbound(query)
        if event is not None:
            await self.batches.inbound(event, update_id)
        try:
            await query.answer()
        except TelegramBadRequest as exc:  # answered too late: the press is kept all the same
            log.debug("answerCallbackQuery %s refused: %s", query.id, exc)

    async def membership(self, member: ChatMemberUpdated, update_id: int) -> None:
        """The customer blocked the bot (kicked) or unblocked it (member again)."""
        status = str(member.new_chat_member.status).rsplit(".", 1)[-1].lower()
        if status not in ("kicked", "member"):
            log.debug("private my_chat_member with status %s ignored", status)
            return
        reachable = status == "member"
        await self.sink.reachability(
            CHANNEL,
            str(member.from_user.id),
            reachable,
            None if reachable else "the customer blocked the bot",
            notice=BLOCKED_NOTICES,
            update=(UPDATE_SOURCE, update_id),
        )


async def in_private_chat(event: Message | ChatMemberUpdated) -> bool:
    """Filter: a private chat with the bot.

    A coroutine: aiogram runs a plain callable filter in a thread of its own.
    """
    return event.chat.type == ChatType.PRIVATE


async def press_in_private_chat(query: CallbackQuery) -> bool:
    """Filter: a button pressed under the bot's message in a private chat."""
    message = query.message
    return message is not None and message.chat.type == ChatType.PRIVATE


async def on_private_press(
    query: CallbackQuery, event_update: Update, telegram_customers: TelegramCustomers
) -> None:
    await telegram_customers.pressed(query, event_update.update_id)


async def on_private_edit(
    message: Message, event_update: Update, telegram_customers: TelegramCustomers
) -> None:
    await telegram_customers.edited(message, event_update.update_id)


async def on_private_member(
    update: ChatMemberUpdated, event_update: Update, telegram_customers: TelegramCustomers
) -> None:
    await telegram_customers.membership(update, event_update.update_id)


def customers_router() -> Router:
    """The router of Telegram customers' edits and blocks (a new one per dispatcher)."""
    router = Router(name="telegram-customers")
    router.edited_message.register(on_private_edit, in_private_chat)
    router.my_chat_member.register(on_private_member, in_private_chat)
    router.callback_query.register(on_private_press, press_in_private_chat)
    return router
