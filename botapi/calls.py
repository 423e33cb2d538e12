"""Bot API calls as outbox payloads: `{"method": ..., "params": {...}, "files": {...}?}`.

Pure functions; `botapi/sender.py` executes them. None-valued parameters are
left out (the fake Bot API, like our contract, rejects what it does not know).
"""

from __future__ import annotations

import base64
from typing import Any

from bridge.events import Attachment

HTML = "HTML"

#: Attachment kind → (Bot API method, the method's file parameter).
MEDIA_METHODS: dict[str, tuple[str, str]] = {
    "photo": ("sendPhoto", "photo"),
    "document": ("sendDocument", "document"),
    "voice": ("sendVoice", "voice"),
    "audio": ("sendAudio", "audio"),
    "video": ("sendVideo", "video"),
    "sticker": ("sendSticker", "sticker"),
}
CAPTIONLESS = frozenset({"sticker"})


def call(method: str, **params: Any) -> dict[str, Any]:
    """A payload for `method` with the non-None `params`."""
    return {"method": method, "params": {k: v for k, v in params.items() if v is not None}}


def inline_keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    """reply_markup of (label, callback_data) buttons."""
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": data} for label, data in row] for row in rows
        ]
    }


def send_text(
    chat_id: int | str,
    html: str,
    *,
    thread_id: int | None = None,
    reply_to: int | None = None,
    reply_markup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """sendMessage with HTML; `reply_to` answers a message (not failing if it was deleted)."""
    return call(
        "sendMessage",
        chat_id=chat_id,
        text=html,
        parse_mode=HTML,
        message_thread_id=thread_id,
        reply_markup=reply_markup,
        reply_parameters=(
            {"message_id": reply_to, "allow_sending_without_reply": True} if reply_to else None
        ),
        link_preview_options={"is_disabled": True},
    )


def send_photo_upload(
    chat_id: int,
    png: bytes | None,
    file_id: str | None,
    caption: str,
    *,
    thread_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """sendPhoto of an avatar: a stored file_id, or the PNG uploaded as multipart."""
    payload = call(
        "sendPhoto",
        chat_id=chat_id,
        photo=file_id,
        caption=caption,
        parse_mode=HTML,
        message_thread_id=thread_id,
        reply_markup=reply_markup,
    )
    if file_id is None:
        if png is None:
            raise ValueError("sendPhoto needs a file_id or PNG bytes")
        payload["files"] = {
            "photo": {"data_b64": base64.b64encode(png).decode("ascii"), "filename": "avatar.png"}
        }
    return payload


def edit_caption(
    chat_id: int, message_id: int, caption: str, reply_markup: dict[str, Any] | None
) -> dict[str, Any]:
    """editMessageCaption with HTML; no reply_markup removes the buttons."""
    return call(
        "editMessageCaption",
        chat_id=chat_id,
        message_id=message_id,
        caption=caption,
        parse_mode=HTML,
        reply_markup=reply_markup if reply_markup is not None else {"inline_keyboard": []},
    )


def edit_text(chat_id: int | str, message_id: int, html: str) -> dict[str, Any]:
    """editMessageText with HTML."""
    return call(
        "editMessageText",
        chat_id=chat_id,
        message_id=message_id,
        text=html,
        parse_mode=HTML,
        link_preview_options={"is_disabled": True},
    )


def send_attachment(
    chat_id: int | str,
    attachment: Attachment,
    caption_html: str | None,
    *,
    thread_id: int | None = None,
    reply_to: int | None = None,
    same_bot: bool,
) -> dict[str, Any] | None:
    """The call that shows `attachment` in a chat, or None when it cannot be resent.

    `same_bot`: the attachment's `file_ref` is a file_id of this bot (a Telegram customer or an
    operator), so it is resent as is; otherwise the URL is given to Telegram to fetch.
    """
    reply = {"message_id": reply_to, "allow_sending_without_reply": True} if reply_to else None
    if attachment.kind == "location" and attachment.latitude is not None:
        return call(
            "sendLocation",
            chat_id=chat_id,
            latitude=attachment.latitude,
            longitude=attachment.longitude,
            message_thread_id=thread_id,
            reply_parameters=reply,
        )
    if attachment.kind == "contact":
        return call(
            "sendContact",
            chat_id=chat_id,
            phone_number=(attachment.url or "tel:?").removeprefix("tel:"),
            first_name=attachment.file_name or "?",
            message_thread_id=thread_id,
            reply_parameters=reply,
        )
    method = MEDIA_METHODS.get(attachment.kind)
    source = attachment.file_ref if same_bot and attachment.file_ref else attachment.url
    if method is None or source is None:
        return None
    name, field = method
    params: dict[str, Any] = {
        "chat_id": chat_id,
        field: source,
        "message_thread_id": thread_id,
        "reply_parameters": reply,
    }
    if caption_html and attachment.kind not in CAPTIONLESS:
        params["caption"] = caption_html
        params["parse_mode"] = HTML
    return call(name, **params)
