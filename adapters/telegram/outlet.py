"""Sending to a Telegram customer: an operator's reply → outbox rows of Bot API calls.

Rows go to the customer's private chat (pacing key = the chat id, 1 message a second), one
lane per customer so replies keep their order; the outbox's Telegram sender delivers them.
A failure (the customer blocked the bot) marks the message failed and is shown in the
conversation's place (handler `customer.reply_sent`, desk/completions.py). That
handler also records where each reply landed (storage/copies.py), so an operator's edit of
the reply edits the customer's copy (editMessageText / editMessageCaption); an edit Telegram
refuses becomes a correction (handler `customer.edit_sent`). Choices (a rating request's
stars) are an inline keyboard whose callback_data is each choice's action; the press comes
back as a callback_query in the private chat (adapters/telegram/customers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botapi import calls
from bridge import outbox
from bridge.core.cards import CAPTION_LIMIT, MESSAGE_LIMIT, escape, pieces, tg_length
from bridge.core.reply_handlers import ReplyHandler
from storage.copies import customer_copies

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.events import Choice, Outbound
    from storage.models import Conversation, Customer, Message

PLATFORM = "telegram"
HANDLER = ReplyHandler.SENT
EDIT_HANDLER = ReplyHandler.EDIT_SENT


class TelegramOutlet:
    """`bridge.core.desk.CustomerOutlet` for customers in private chats with the bot."""

    async def _enqueue(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        payload: dict[str, Any],
        message_id: int | None,
        *,
        handler: str = HANDLER,
    ) -> None:
        await outbox.enqueue(
            session,
            platform=PLATFORM,
            destination=customer.chat,
            lane=f"tg:{customer.chat}",
            kind="reply",
            payload=payload,
            priority=outbox.PRIORITY_REPLY,
            handler=handler,
            conversation_id=conversation.id,
            message_id=message_id,
        )

    async def enqueue_reply(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
        outbound: Outbound,
        *,
        html: str | None = None,
    ) -> None:
        """The operator's text (with formatting) and files, resent by file_id."""
        body = html if html is not None else escape(outbound.text)
        if outbound.attachments:
            # Telegram counts UTF-16 units: a text too long for a caption follows the files.
            as_caption = tg_length(body) <= CAPTION_LIMIT
            for index, attachment in enumerate(outbound.attachments):
                caption = body if index == 0 and body and as_caption else None
                payload = calls.send_attachment(customer.chat, attachment, caption, same_bot=True)
                if payload is not None:
                    await self._enqueue(session, conversation, customer, payload, message.id)
            if as_caption or not body:
                return
        chunks = [body]
        if tg_length(body) > MESSAGE_LIMIT:
            chunks = [escape(piece) for piece in pieces(outbound.text)]
        for chunk in chunks:
            payload = calls.send_text(customer.chat, chunk)
            await self._enqueue(session, conversation, customer, payload, message.id)

    async def enqueue_text(
        self, session: AsyncSession, conversation: Conversation, customer: Customer, text: str
    ) -> None:
        """A service text (closing words), escaped."""
        payload = calls.send_text(customer.chat, escape(text))
        await self._enqueue(session, conversation, customer, payload, None)

    async def enqueue_choices(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        text: str,
        choices: Sequence[Choice],
    ) -> None:
        """`text` with one row of inline buttons (`ChoiceOutlet`)."""
        keyboard = calls.inline_keyboard([[(c.label, c.action) for c in choices]])
        payload = calls.send_text(customer.chat, escape(text), reply_markup=keyboard)
        await self._enqueue(session, conversation, customer, payload, None)

    async def enqueue_edit(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
        *,
        html: str | None = None,
    ) -> bool:
        """Edit the customer's one copy of `message`; False when there is no single copy."""
        if message.id is None:
            return False
        copies = await customer_copies(session, message.id)
        if len(copies) != 1 or copies[0].form == "other":
            return False  # not delivered yet, sent in parts, or a message without text
        copy = copies[0]
        body = html if html is not None else escape(message.text or "")
        if copy.form == "caption":
            if tg_length(body) > CAPTION_LIMIT:
                return False
            payload = calls.call(
                "editMessageCaption",
                chat_id=copy.chat,
                message_id=int(copy.message_id),
                caption=body,
                parse_mode=calls.HTML,
            )
        else:
            if not body or tg_length(body) > MESSAGE_LIMIT:
                return False
            payload = calls.edit_text(copy.chat, int(copy.message_id), body)
        await self._enqueue(
            session, conversation, customer, payload, message.id, handler=EDIT_HANDLER
        )
        return True
