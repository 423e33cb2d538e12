"""Shapes of VK objects as API 5.199 returns them: messages, attachments, events.

Field names follow VK's objects.json (`messages_message`, `photos_photo`, `docs_doc`,
`messages_audio_message`, `base_sticker_new`, `wall_wallpost_full`, `callback_message_object`).
"""

from __future__ import annotations

import secrets
from typing import Any

API_VERSION = "5.199"
ATTACHMENT_KINDS = ("photo", "doc", "audio_message", "sticker", "wall")

CLIENT_INFO: dict[str, Any] = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def photo_object(
    photo_id: int, owner_id: int, url: str, date: int, access_key: str
) -> dict[str, Any]:
    """A `photos_photo` with the size list VK sends (one size here, type "x")."""
    return {
        "album_id": -3,
        "date": date,
        "id": photo_id,
        "owner_id": owner_id,
        "access_key": access_key,
        "sizes": [{"height": 1, "width": 1, "type": "x", "url": url}],
        "orig_photo": {"height": 1, "width": 1, "type": "base", "url": url},
        "text": "",
        "has_tags": False,
    }


def doc_object(
    doc_id: int, owner_id: int, title: str, size: int, url: str, date: int, access_key: str
) -> dict[str, Any]:
    """A `docs_doc`; `type` 1 is VK's code for a text document, 8 for other files."""
    ext = title.rsplit(".", 1)[-1].lower() if "." in title else ""
    return {
        "id": doc_id,
        "owner_id": owner_id,
        "title": title,
        "size": size,
        "ext": ext,
        "date": date,
        "type": 1 if ext in ("txt", "pdf", "doc", "docx") else 8,
        "url": url,
        "access_key": access_key,
    }


def audio_message_object(item_id: int, owner_id: int, url: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "owner_id": owner_id,
        "duration": 3,
        "waveform": [0, 4, 9, 15, 9, 4, 0],
        "link_ogg": url,
        "link_mp3": url,
        "access_key": secrets.token_hex(9),
    }


def sticker_object(sticker_id: int, url: str) -> dict[str, Any]:
    return {
        "inner_type": "base_sticker_new",
        "product_id": 1,
        "sticker_id": sticker_id,
        "images": [{"url": url, "width": 128, "height": 128}],
        "images_with_background": [{"url": url, "width": 128, "height": 128}],
        "is_allowed": True,
    }


def wall_object(post_id: int, owner_id: int, text: str, date: int) -> dict[str, Any]:
    return {
        "id": post_id,
        "owner_id": owner_id,
        "from_id": owner_id,
        "date": date,
        "post_type": "post",
        "text": text,
        "attachments": [],
    }


def message_object(
    message_id: int,
    conversation_message_id: int,
    peer_id: int,
    from_id: int,
    text: str,
    date: int,
    attachments: list[dict[str, Any]],
    out: bool = False,
    random_id: int = 0,
) -> dict[str, Any]:
    """A `messages_message` as it appears in message_new / message_edit / message_reply."""
    return {
        "date": date,
        "from_id": from_id,
        "id": message_id,
        "version": message_id,
        "out": 1 if out else 0,
        "attachments": attachments,
        "conversation_message_id": conversation_message_id,
        "fwd_messages": [],
        "important": False,
        "is_hidden": False,
        "peer_id": peer_id,
        "random_id": random_id,
        "text": text,
    }


def event(group_id: int, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """One Callback API / Bots Long Poll event: `{group_id, type, event_id, v, object}`."""
    return {
        "group_id": group_id,
        "type": event_type,
        "event_id": secrets.token_hex(20),
        "v": API_VERSION,
        "object": obj,
    }
