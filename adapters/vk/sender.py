"""The outbox's VK sender: an operator's reply → `messages.send`, media through upload servers.

Payload: `adapters.common.outbound.outbound_payload(outbound)`. The `random_id` is fixed per
outbox row (`random_id_for`), so a retry after a crash or a timeout never sends twice: VK
refuses a second message with the same random_id. Photos (and stickers) are uploaded with
`photos.getMessagesUploadServer`, files with `docs.getMessagesUploadServer` (voice as an
`audio_message`); a VK attachment string in `file_ref` is reused as is. A customer who denied
messages is not written to at all: `RecipientUnreachable`, which the operator sees.
Choices (a rating request's stars) go as an inline keyboard of text buttons under the last
part, each carrying `{"action": ...}` as its payload, which VK sends back with the message a
press writes (`message_new` with `payload`, adapters/vk/convert.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from adapters.common.http import download
from adapters.common.outbound import outbound_from_payload
from adapters.vk.client import VkClient
from bridge.errors import PermanentError, RecipientUnreachable
from bridge.events import Attachment, Choice
from bridge.outbox.senders import random_id_for

MAX_TEXT = 9000  # messages.send `message` maxLength (VK schema methods.json)
MAX_ATTACHMENTS = 10
VK_REF = re.compile(r"^(photo|doc|audio_message|video|audio|wall)-?\d+_\d+(_[0-9A-Za-z]+)?$")
DOC_KINDS = ("document", "video", "audio", "voice")


class VkSender:
    """Delivers outbox rows of platform "vk" (see bridge.outbox.senders.Sender)."""

    def __init__(
        self,
        client: VkClient,
        http: Callable[[], aiohttp.ClientSession],
        denied: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        """`denied(user)`: whether the customer denied messages (None: VK alone refuses)."""
        self._client = client
        self._http = http
        self._denied = denied

    async def deliver(self, item: Any) -> dict[str, Any]:
        outbound = outbound_from_payload(item.payload)
        try:
            peer_id = int(outbound.chat)
        except ValueError:
            raise PermanentError(f"not a VK peer id: {outbound.chat!r}") from None
        if self._denied is not None and await self._denied(outbound.chat):
            raise RecipientUnreachable("the customer has denied messages from the community")
        text = outbound.text
        attachments: list[str] = []
        extra: dict[str, Any] = {}
        for attachment in outbound.attachments:
            if attachment.kind == "location" and attachment.latitude is not None:
                extra = {"lat": attachment.latitude, "long": attachment.longitude}
            elif attachment.kind in ("link", "contact", "location"):
                text = "\n".join(p for p in (text, _as_text(attachment)) if p)
            else:
                attachments.append(await self._upload(attachment, peer_id))
        if len(attachments) > MAX_ATTACHMENTS:
            raise PermanentError(f"VK allows at most {MAX_ATTACHMENTS} attachments per message")
        parts = _split(text) or [""]
        base = random_id_for(item)
        ids = []
        for number, part in enumerate(parts):
            first, last = number == 0, number == len(parts) - 1
            message_id = await self._client.call(
                "messages.send",
                peer_id=peer_id,
                message=part or None,
                attachment=",".join(attachments) if first and attachments else None,
                random_id=(base + number) & 0x7FFF_FFFF_FFFF_FFFF,
                keyboard=keyboard(outbound.choices) if last and outbound.choices else None,
                **(extra if first else {}),
            )
            ids.append(str(message_id))
        return {"message_id": ids[0], "message_ids": ids}

    async def _upload(self, attachment: Attachment, peer_id: int) -> str:
        if attachment.file_ref and VK_REF.match(attachment.file_ref):
            return attachment.file_ref
        data = attachment.data
        content_type = attachment.mime_type
        if data is None:
            if not attachment.url:
                raise PermanentError(f"the {attachment.kind} has neither bytes nor a URL")
            data, fetched_type = await download(self._http(), attachment.url)
            content_type = content_type or fetched_type
        name = attachment.file_name or _default_name(attachment.kind, content_type)
        if attachment.kind in ("photo", "sticker"):
            return await self._client.upload_photo(data, name, peer_id)
        if attachment.kind in DOC_KINDS:
            doc_type = "audio_message" if attachment.kind == "voice" else None
            return await self._client.upload_document(data, name, peer_id, doc_type)
        raise PermanentError(f"VK cannot carry a {attachment.kind}")


#: VK's limits of an inline keyboard: buttons per row, and a button's label.
ROW_BUTTONS = 5
MAX_LABEL = 40


def keyboard(choices: tuple[Choice, ...]) -> str:
    """The `keyboard` parameter: an inline keyboard of text buttons with payloads."""
    buttons = [
        {
            "action": {
                "type": "text",
                "label": choice.label[:MAX_LABEL],
                "payload": json.dumps({"action": choice.action}),
            },
            "color": "primary",
        }
        for choice in choices
    ]
    rows = [buttons[i : i + ROW_BUTTONS] for i in range(0, len(buttons), ROW_BUTTONS)]
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False)


def _split(text: str) -> list[str]:
    """`text` in pieces VK accepts (≤ 9000 characters), cut at line breaks where possible."""
    parts: list[str] = []
    while len(text) > MAX_TEXT:
        cut = text.rfind("\n", 0, MAX_TEXT)
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        parts.append(text)
    return parts


def _as_text(attachment: Attachment) -> str:
    if attachment.kind == "location":
        return f"📍 {attachment.caption or ''}".strip()
    return " ".join(p for p in (attachment.caption, attachment.url) if p)


def _default_name(kind: str, content_type: str | None) -> str:
    ext = {
        "image/png": "png",
        "image/gif": "gif",
        "image/webp": "webp",
        "audio/ogg": "ogg",
        "audio/mpeg": "mp3",
        "video/mp4": "mp4",
        "application/pdf": "pdf",
    }.get(content_type or "", "jpg" if kind in ("photo", "sticker") else "bin")
    return f"{kind}.{ext}"
