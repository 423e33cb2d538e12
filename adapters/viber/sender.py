"""The outbox's Viber sender: an operator's reply → `send_message` (text, picture, file…).

Payload: `adapters.common.outbound.outbound_payload(outbound)`. Messages are built with
viberbot's message models; the sender name (and avatar) come from the config. Viber fetches
media itself, so an attachment needs a public `url` (bytes alone cannot be sent: a clear
PermanentError). Viber has no idempotency key: a retried row may repeat a message.
Choices (a rating request's stars) go as a keyboard of `reply` buttons on the last message;
a press sends the button's ActionBody (the choice's action) as the customer's text, silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from viberbot.api.messages import (
    FileMessage,
    LocationMessage,
    PictureMessage,
    StickerMessage,
    TextMessage,
    URLMessage,
    VideoMessage,
)
from viberbot.api.messages.data_types.location import Location

from adapters.common.outbound import outbound_from_payload
from adapters.viber.client import ViberApi
from adapters.viber.settings import ViberSettings
from bridge.errors import PermanentError, TransientError
from bridge.events import Attachment, Choice

MAX_TEXT = 7000
MAX_CAPTION = 512


class ViberSender:
    """Delivers outbox rows of platform "viber" (see bridge.outbox.senders.Sender)."""

    def __init__(
        self, api: ViberApi, settings: ViberSettings, http: Callable[[], aiohttp.ClientSession]
    ) -> None:
        self._api = api
        self._settings = settings
        self._http = http

    def sender_field(self) -> dict[str, str]:
        sender = {"name": self._settings.name}
        if self._settings.avatar:
            sender["avatar"] = self._settings.avatar
        return sender

    async def deliver(self, item: Any) -> dict[str, Any]:
        outbound = outbound_from_payload(item.payload)
        messages = await self._messages(outbound.text, outbound.attachments)
        if outbound.choices:
            messages[-1] = {**messages[-1], "keyboard": keyboard(outbound.choices)}
        tokens = []
        for message in messages:
            body = {"receiver": outbound.chat, "sender": self.sender_field(), **message}
            answer = await self._api.call("send_message", body)
            tokens.append(str(answer.get("message_token", "")))
        return {"message_id": tokens[0], "message_ids": tokens}

    async def _messages(
        self, text: str, attachments: tuple[Attachment, ...]
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        caption_used = False
        for attachment in attachments:
            if attachment.kind == "photo" and not caption_used and 0 < len(text) <= MAX_CAPTION:
                out.append(_clean(PictureMessage(media=_url(attachment), text=text).to_dict()))
                caption_used = True
            else:
                out.append(await self._attachment(attachment))
        if text and not caption_used:
            out[:0] = [_clean(TextMessage(text=part).to_dict()) for part in _split(text)]
        if not out:
            raise PermanentError("nothing to send to Viber")
        return out

    async def _attachment(self, attachment: Attachment) -> dict[str, Any]:
        kind = attachment.kind
        if kind == "location" and attachment.latitude is not None:
            location = Location(lat=attachment.latitude, lon=attachment.longitude)
            return _clean(LocationMessage(location=location).to_dict())
        if kind == "sticker" and attachment.file_ref and attachment.file_ref.isdigit():
            return _clean(StickerMessage(sticker_id=int(attachment.file_ref)).to_dict())
        if kind == "photo" or (kind == "sticker" and attachment.url):
            return _clean(PictureMessage(media=_url(attachment), text="").to_dict())
        if kind == "link":
            return _clean(URLMessage(media=_url(attachment)).to_dict())
        url = _url(attachment)
        size = attachment.size or await self._size_of(url)
        if kind == "video":
            return _clean(VideoMessage(media=url, size=size).to_dict())
        name = attachment.file_name or url.rsplit("/", 1)[-1].split("?", 1)[0] or "file"
        return _clean(FileMessage(media=url, size=size, file_name=name[:256]).to_dict())

    async def _size_of(self, url: str) -> int:
        """Viber wants the size of a file it will fetch: ask the file's server."""
        try:
            async with self._http().head(url, allow_redirects=True) as response:
                if response.status == 200 and response.content_length:
                    return int(response.content_length)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"cannot reach {url} to learn its size: {exc}") from exc
        raise PermanentError(f"the size of {url} is unknown; Viber needs it to send a file")


#: A keyboard row is 6 columns wide: as many buttons as fit side by side.
ROW_COLUMNS = 6


def keyboard(choices: tuple[Choice, ...]) -> dict[str, Any]:
    """A Viber keyboard: one `reply` button per choice, side by side, the press not shown."""
    columns = max(1, ROW_COLUMNS // len(choices)) if len(choices) <= ROW_COLUMNS else ROW_COLUMNS
    return {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": columns,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": choice.action,
                "Text": choice.label,
                "Silent": True,
            }
            for choice in choices
        ],
    }


def _url(attachment: Attachment) -> str:
    if not attachment.url or not attachment.url.startswith(("http://", "https://")):
        raise PermanentError(
            f"Viber fetches media by URL, and this {attachment.kind} has no public URL"
        )
    return attachment.url


def _clean(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if v is not None}


def _split(text: str) -> list[str]:
    return [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
