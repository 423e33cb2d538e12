"""VK events (Callback API and Bots Long Poll share them) → bridge updates. Pure, no I/O.

An event is `{type, object, group_id, event_id, v}` (VK schema objects.json `callback_base`).
Handled: message_new (text, photos, documents, audio messages, stickers, wall posts as links,
videos and links as links, a location; a press of the bridge's keyboard button carries its
action in `payload`), message_edit, message_allow, message_deny. Messages in
group chats and the community's own messages are ignored; anything malformed raises
`MalformedPayload` (the webhook answers 400; the long poll logs and skips it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from adapters.common.updates import Ignored, InboundUpdate, ReachabilityUpdate, Update
from adapters.common.webhook_input import MalformedPayload, field, optional
from bridge.events import MAX_ACTION, Attachment, Inbound

#: peer ids above this are group chats (VK: 2000000000 + chat id).
CHAT_PEER_OFFSET = 2_000_000_000
VK_URL = "https://vk.com"


def convert_event(event: Any, channel: str = "vk") -> list[Update]:
    """The updates one VK event means (an empty list never: `Ignored` says why)."""
    if not isinstance(event, dict):
        raise MalformedPayload("an event must be an object")
    kind = field(event, "type", str)
    if kind == "message_new":
        obj = field(event, "object", dict)
        message = field(obj, "message", dict, "object")
        return [_message(message, channel, edit=False)]
    if kind == "message_edit":
        return [_message(field(event, "object", dict), channel, edit=True)]
    if kind in ("message_allow", "message_deny"):
        obj = field(event, "object", dict)
        user = field(obj, "user_id", int, "object")
        if kind == "message_allow":
            return [ReachabilityUpdate(str(user), True, "allowed messages from the community")]
        return [ReachabilityUpdate(str(user), False, "denied messages from the community")]
    return [Ignored(f"VK event {kind!r} is not used")]


def _message(message: dict[str, Any], channel: str, *, edit: bool) -> Update:
    where = "message"
    message_id = field(message, "id", int, where)
    from_id = field(message, "from_id", int, where)
    peer_id = field(message, "peer_id", int, where)
    date = field(message, "date", int, where)
    text = optional(message, "text", str, where) or ""
    raw_attachments = optional(message, "attachments", list, where) or []
    if optional(message, "out", int, where):
        return Ignored("the community's own message")
    if peer_id >= CHAT_PEER_OFFSET or from_id <= 0:
        return Ignored("a message in a group chat or from a community")
    if peer_id != from_id:
        # In a customer's private dialog with the community the peer is the customer.
        raise MalformedPayload(f"{where}.peer_id {peer_id} is not the sender {from_id}")
    attachments = [a for a in (_attachment(raw) for raw in raw_attachments) if a is not None]
    geo = optional(message, "geo", dict, where)
    if geo is not None:
        attachments.append(_location(geo))
    external_id = message_key(message_id, peer_id, message, where)
    edit_of = None
    if edit:
        edited_at = optional(message, "update_time", int, where) or date
        external_id, edit_of = f"{external_id}:edit:{edited_at}", external_id
    return InboundUpdate(
        Inbound(
            channel=channel,
            chat=str(peer_id),
            user=str(from_id),
            external_id=external_id,
            text=text,
            attachments=tuple(attachments),
            sent_at=datetime.fromtimestamp(date, UTC) if 0 <= date < 2**33 else None,
            edit_of=edit_of,
            action=None if edit else _action(optional(message, "payload", str, where)),
        )
    )


def _action(payload: str | None) -> str | None:
    """The action of a pressed keyboard button: `{"action": ...}` in the message's payload (a
    JSON string, adapters/vk/sender.py); None for a typed message or another payload."""
    if not payload:
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    action = data.get("action") if isinstance(data, dict) else None
    return action if isinstance(action, str) and 0 < len(action) <= MAX_ACTION else None


def message_key(message_id: int, peer_id: int, message: dict[str, Any], where: str) -> str:
    """The id a customer's message is stored under: VK's message id, unique in the community;
    when a client reports 0, the per-dialog `conversation_message_id` scoped by the dialog
    (`<peer_id>:<conversation_message_id>`), which two customers' dialogs can share."""
    if message_id > 0:
        return str(message_id)
    return f"{peer_id}:{field(message, 'conversation_message_id', int, where)}"


def _attachment(raw: Any) -> Attachment | None:
    kind = field(raw, "type", str, "attachment")
    body = field(raw, kind, dict, "attachment")
    if kind == "photo":
        return Attachment("photo", url=_largest(body.get("sizes")), file_ref=_ref("photo", body))
    if kind == "doc":
        size = body.get("size")
        return Attachment(
            "document",
            url=_str(body.get("url")),
            file_ref=_ref("doc", body),
            file_name=_str(body.get("title")),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )
    if kind == "audio_message":
        url = _str(body.get("link_ogg")) or _str(body.get("link_mp3"))
        return Attachment("voice", url=url, file_ref=_ref("doc", body), mime_type="audio/ogg")
    if kind == "sticker":
        images = body.get("images") or body.get("images_with_background")
        return Attachment("sticker", url=_largest(images))
    if kind == "wall":
        owner, post = body.get("owner_id", body.get("to_id")), body.get("id")
        text = _str(body.get("text"))
        return Attachment("link", url=f"{VK_URL}/wall{owner}_{post}", caption=text or None)
    if kind in ("video", "audio"):
        owner, item = body.get("owner_id"), body.get("id")
        return Attachment("link", url=f"{VK_URL}/{kind}{owner}_{item}", caption=kind)
    if kind == "link":
        return Attachment("link", url=_str(body.get("url")), caption=_str(body.get("title")))
    return None


def _location(geo: dict[str, Any]) -> Attachment:
    coordinates = field(geo, "coordinates", dict, "geo")
    lat = field(coordinates, "latitude", (int, float), "geo.coordinates")
    lon = field(coordinates, "longitude", (int, float), "geo.coordinates")
    return Attachment("location", latitude=float(lat), longitude=float(lon))


def _largest(images: Any) -> str | None:
    """URL of the biggest image of a VK size list ([{url, width, height}, …])."""
    if not isinstance(images, list):
        return None
    best: tuple[int, str] | None = None
    for image in images:
        if not isinstance(image, dict) or not isinstance(image.get("url"), str):
            continue
        width, height = image.get("width"), image.get("height")
        area = width * height if isinstance(width, int) and isinstance(height, int) else 0
        if best is None or area >= best[0]:
            best = (area, image["url"])
    return best[1] if best else None


def _ref(kind: str, body: dict[str, Any]) -> str | None:
    """The attachment string VK accepts back in messages.send (`photo-1_2_key`)."""
    owner, item = body.get("owner_id"), body.get("id")
    if not isinstance(owner, int) or not isinstance(item, int):
        return None
    key = body.get("access_key")
    return f"{kind}{owner}_{item}" + (f"_{key}" if isinstance(key, str) and key else "")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
