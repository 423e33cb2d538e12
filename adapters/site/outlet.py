"""Queueing an operator's reply for a site visitor: one outbox row of platform "site".

The row's payload is `adapters.common.outbound.outbound_payload`; `SiteSender` delivers it.
The reply is already stored as a message, so a visitor who is offline reads it from history.
An operator's file travels as it came (a Telegram file_id): the sender keeps a copy for the
visitor, fetched through the bridge's `/files/telegram/...` link, and the widget links that
copy (adapters/site/replies.py), since the widget shows files only under a visitor's own link.
Choices (a rating request) are pushed with the text; the widget shows them as buttons (stars)
and posts a press to `/widget/<id>/actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters.common.outbound import outbound_payload
from bridge import outbox
from bridge.core.reply_handlers import ReplyHandler
from bridge.events import Choice, Outbound

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.models import Conversation, Customer, Message

PLATFORM = "site"
HANDLER = ReplyHandler.SENT


class SiteOutlet:
    """`bridge.core.desk.CustomerOutlet` for visitors of the site widgets."""

    async def _enqueue(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        outbound: Outbound,
        message_id: int | None,
    ) -> None:
        await outbox.enqueue(
            session,
            platform=PLATFORM,
            destination=f"{customer.channel}:{customer.chat}",
            lane=f"{customer.channel}:{customer.chat}",
            kind="reply",
            payload=outbound_payload(outbound),
            priority=outbox.PRIORITY_REPLY,
            handler=HANDLER if message_id is not None else None,
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
        """The operator's text and files (the widget shows text only, never HTML)."""
        await self._enqueue(session, conversation, customer, outbound, message.id)

    async def enqueue_text(
        self, session: AsyncSession, conversation: Conversation, customer: Customer, text: str
    ) -> None:
        """A service text (closing words)."""
        outbound = Outbound(channel=customer.channel, chat=customer.chat, text=text)
        await self._enqueue(session, conversation, customer, outbound, None)

    async def enqueue_choices(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        text: str,
        choices: Sequence[Choice],
    ) -> None:
        """`text` with buttons (`ChoiceOutlet`): the widget shows them (a rating's stars)."""
        outbound = Outbound(
            channel=customer.channel, chat=customer.chat, text=text, choices=tuple(choices)
        )
        await self._enqueue(session, conversation, customer, outbound, None)
