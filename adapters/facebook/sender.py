"""The outbox's Messenger sender: an operator's reply → Send API, inside Meta's windows.

Within 24 hours of the customer's last message a reply goes as `messaging_type: RESPONSE`;
when Meta answers "outside of allowed window" it is sent again with the `HUMAN_AGENT` tag
(allowed up to 7 days); past that the row fails with a clear reason the operator sees. Which
customers are past 24 hours is remembered until they write again, to save the first call
(only a saving: a process that does not know it makes that call and learns it).
Attachments go by URL (Meta fetches them). The mids sent are recorded by the reply's
completion handler (storage/sent.py), where read receipts find them. Choices (a rating
request's stars) go as `quick_replies` of the last text, whose payload is the choice's action;
a tap comes back as a message with `quick_reply.payload` (adapters/facebook/convert.py).
"""

from __future__ import annotations

from typing import Any

from adapters.common.outbound import outbound_from_payload
from adapters.facebook.client import GraphApi
from adapters.facebook.errors import OutsideWindow
from bridge.errors import PermanentError
from bridge.events import Attachment, Choice

MAX_TEXT = 2000
SEND_TYPES = {"photo": "image", "sticker": "image", "video": "video", "voice": "audio"}
SEND_TYPES |= {"audio": "audio", "document": "file"}
PAST_SEVEN_DAYS = (
    "Not delivered: more than 7 days have passed since the customer's last message, and "
    "Messenger allows no reply until they write again"
)


class FacebookSender:
    """Delivers outbox rows of platform "facebook" (see bridge.outbox.senders.Sender)."""

    def __init__(self, api: GraphApi) -> None:
        self._api = api
        self._past_standard_window: set[str] = set()

    def customer_wrote(self, psid: str) -> None:
        """The customer wrote: the standard 24-hour window is open again."""
        self._past_standard_window.discard(psid)

    async def deliver(self, item: Any) -> dict[str, Any]:
        outbound = outbound_from_payload(item.payload)
        messages: list[dict[str, Any]] = [{"text": part} for part in _split(outbound.text)]
        if outbound.choices and messages:
            messages[-1]["quick_replies"] = quick_replies(outbound.choices)
        messages += [_attachment(a, outbound.text) for a in outbound.attachments]
        messages = [m for m in messages if m]
        if not messages:
            raise PermanentError("nothing to send to Messenger")
        mids = [await self._send(outbound.chat, message) for message in messages]
        return {"message_id": mids[0], "message_ids": mids}

    async def _send(self, psid: str, message: dict[str, Any]) -> str:
        body: dict[str, Any] = {"recipient": {"id": psid}, "message": message}
        answer: dict[str, Any] | None = None
        if psid not in self._past_standard_window:
            try:
                answer = await self._api.send({**body, "messaging_type": "RESPONSE"})
            except OutsideWindow:
                self._past_standard_window.add(psid)
        if answer is None:
            try:
                answer = await self._api.send(
                    {**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
                )
            except OutsideWindow as exc:
                raise PermanentError(PAST_SEVEN_DAYS, code=exc.code) from exc
        return str(answer.get("message_id", ""))


#: Messenger's limits: quick replies per message, and a quick reply's title.
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20


def quick_replies(choices: tuple[Choice, ...]) -> list[dict[str, str]]:
    """`message.quick_replies`: one text quick reply per choice."""
    return [
        {"content_type": "text", "title": choice.label[:MAX_TITLE], "payload": choice.action}
        for choice in choices[:MAX_QUICK_REPLIES]
    ]


def _attachment(attachment: Attachment, text: str) -> dict[str, Any]:
    if attachment.kind in ("link", "location", "contact"):
        parts: tuple[str | None, ...] = (attachment.caption, attachment.url)
        if attachment.kind == "location" and attachment.latitude is not None:
            parts = (f"https://maps.google.com/?q={attachment.latitude},{attachment.longitude}",)
        line = " ".join(p for p in parts if p)
        return {"text": line[:MAX_TEXT]} if line and line not in text else {}
    kind = SEND_TYPES.get(attachment.kind)
    if kind is None:
        raise PermanentError(f"Messenger cannot carry a {attachment.kind}")
    if not attachment.url or not attachment.url.startswith(("http://", "https://")):
        raise PermanentError(
            f"Messenger fetches media by URL, and this {attachment.kind} has no public URL"
        )
    return {"attachment": {"type": kind, "payload": {"url": attachment.url, "is_reusable": True}}}


def _split(text: str) -> list[str]:
    return [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)]
