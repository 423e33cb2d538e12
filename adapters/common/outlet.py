"""Queueing an operator's reply for a VK, Viber or Facebook customer: one outlet for all three.

`PlatformOutlet("vk")` is the core's `CustomerOutlet` for platform "vk": each reply becomes one
outbox row (platform = the channel family, destination = the customer's chat, one lane per
customer so replies keep their order) whose payload is `outbound_payload(outbound)`, which the
platform's sender reads back. An operator's file is known only by its Telegram file_id, which
no other platform can use: `file_link` turns it into a URL of the bridge that serves the file
(botapi/files.py), so VK downloads it and Viber and Facebook fetch it themselves.
Without a link (no address configured) the sender refuses the file with a clear reason that
the operator sees. Handler `customer.reply_tracked` (desk/customer_side.py) records the
platform's message ids for delivery receipts and reports failures in the conversation's place.
Choices (a rating request's stars) travel in the payload; each platform's sender shows them in
its own controls (a VK keyboard, a Viber keyboard, Messenger quick replies).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from adapters.common.outbound import outbound_payload
from bridge import outbox
from bridge.core.reply_handlers import ReplyHandler
from bridge.events import Attachment, Choice, Outbound

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.models import Conversation, Customer, Message

HANDLER = ReplyHandler.TRACKED
FileLink = Callable[[str], "str | None"]


class PlatformOutlet:
    """`bridge.core.desk.CustomerOutlet` for one platform whose sender reads `outbound_payload`."""

    def __init__(self, platform: str, file_link: FileLink | None = None) -> None:
        if not platform or ":" in platform:
            raise ValueError(f"platform must be a channel family like 'vk', got {platform!r}")
        self.platform = platform
        self._file_link = file_link

    def _linked(self, attachment: Attachment) -> Attachment:
        if attachment.url or attachment.data is not None or not attachment.file_ref:
            return attachment
        url = self._file_link(attachment.file_ref) if self._file_link else None
        return replace(attachment, url=url) if url else attachment

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
            platform=self.platform,
            destination=customer.chat,
            lane=f"{self.platform}:{customer.chat}",
            kind="reply",
            payload=outbound_payload(outbound),
            priority=outbox.PRIORITY_REPLY,
            handler=HANDLER,
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
        """The operator's plain text and files (these platforms show no HTML)."""
        attachments = tuple(self._linked(a) for a in outbound.attachments)
        outbound = replace(outbound, chat=customer.chat, attachments=attachments)
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
        """`text` with buttons (`ChoiceOutlet`): the sender shows them in its platform's way."""
        outbound = Outbound(
            channel=customer.channel, chat=customer.chat, text=text, choices=tuple(choices)
        )
        await self._enqueue(session, conversation, customer, outbound, None)
