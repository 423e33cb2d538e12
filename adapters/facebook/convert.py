"""Messenger webhook bodies → bridge updates. Pure, no I/O.

Envelope `{object: "page", entry: [{id, time, messaging: [event]}]}`; every entry is read (Meta
batches). Handled: message (text, attachments, a quick reply's payload as the press's action;
echoes of the Page's own messages ignored),
postback (as a message with the button's title), delivery (by mids). `read` carries only a
watermark: it is returned as `ReadWatermark` for the adapter to resolve against what it sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.common.updates import DeliveryUpdate, Ignored, InboundUpdate, Update
from adapters.common.webhook_input import MalformedPayload, field, optional
from bridge.events import MAX_ACTION, Attachment, AttachmentKind, Inbound

KINDS: dict[str, AttachmentKind] = {
    "image": "photo",
    "video": "video",
    "audio": "voice",
    "file": "document",
    "fallback": "link",
}


@dataclass(frozen=True, slots=True)
class ReadWatermark:
    """The customer read everything the Page sent before `watermark` (ms)."""

    user: str
    watermark: int


def convert_body(body: dict[str, Any], channel: str = "facebook") -> list[Update | ReadWatermark]:
    """The updates one webhook body means, in order."""
    if field(body, "object", str) != "page":
        raise MalformedPayload("object must be 'page'")
    updates: list[Update | ReadWatermark] = []
    for entry in field(body, "entry", list):
        if not isinstance(entry, dict):
            raise MalformedPayload("entry items must be objects")
        if optional(entry, "standby", list, "entry") is not None:
            updates.append(Ignored("standby events belong to another app"))
        for event in optional(entry, "messaging", list, "entry") or []:
            updates.extend(_event(event, channel))
    return updates


def _event(event: Any, channel: str) -> list[Update | ReadWatermark]:
    if not isinstance(event, dict):
        raise MalformedPayload("messaging items must be objects")
    sender = field(field(event, "sender", dict, "event"), "id", str, "sender")
    timestamp = optional(event, "timestamp", int, "event")
    if "message" in event:
        return [_message(field(event, "message", dict, "event"), sender, timestamp, channel)]
    if "postback" in event:
        return [_postback(field(event, "postback", dict, "event"), sender, timestamp, channel)]
    if "delivery" in event:
        delivery = field(event, "delivery", dict, "event")
        mids = optional(delivery, "mids", list, "delivery") or []
        if not all(isinstance(m, str) for m in mids):
            raise MalformedPayload("delivery.mids must be strings")
        return [DeliveryUpdate(mid, "delivered") for mid in mids] or [
            Ignored("a delivery watermark without mids")
        ]
    if "read" in event:
        read = field(event, "read", dict, "event")
        return [ReadWatermark(sender, field(read, "watermark", int, "read"))]
    return [Ignored(f"Messenger event with keys {sorted(event)} is not used")]


def _message(message: dict[str, Any], sender: str, timestamp: int | None, channel: str) -> Update:
    if optional(message, "is_echo", bool, "message"):
        return Ignored("an echo of the Page's own message")
    mid = field(message, "mid", str, "message")
    text = optional(message, "text", str, "message") or ""
    attachments = tuple(
        _attachment(a) for a in optional(message, "attachments", list, "message") or []
    )
    quick_reply = optional(message, "quick_reply", dict, "message") or {}
    action = optional(quick_reply, "payload", str, "message.quick_reply")
    return InboundUpdate(
        Inbound(
            channel=channel,
            chat=sender,
            user=sender,
            external_id=mid,
            text=text,
            attachments=attachments,
            sent_at=_time(timestamp),
            action=action if action and len(action) <= MAX_ACTION else None,
        )
    )


def _postback(
    postback: dict[str, Any], sender: str, timestamp: int | None, channel: str
) -> Update:
    title = optional(postback, "title", str, "postback") or ""
    payload = optional(postback, "payload", str, "postback") or ""
    mid = optional(postback, "mid", str, "postback") or f"postback:{sender}:{timestamp}"
    return InboundUpdate(
        Inbound(
            channel=channel,
            chat=sender,
            user=sender,
            external_id=mid,
            text=title or payload,
            sent_at=_time(timestamp),
        )
    )


def _attachment(raw: Any) -> Attachment:
    kind = field(raw, "type", str, "attachment")
    payload = optional(raw, "payload", dict, "attachment") or {}
    url = optional(payload, "url", str, "attachment.payload")
    if kind == "location":
        coordinates = field(payload, "coordinates", dict, "attachment.payload")
        lat = field(coordinates, "lat", (int, float), "coordinates")
        lon = field(coordinates, "long", (int, float), "coordinates")
        return Attachment("location", latitude=float(lat), longitude=float(lon))
    if kind == "image" and payload.get("sticker_id") is not None:
        return Attachment("sticker", url=url, file_ref=str(payload["sticker_id"]))
    title = optional(raw, "title", str, "attachment")
    return Attachment(KINDS.get(kind, "link"), url=url, caption=title)


def _time(timestamp: int | None) -> datetime | None:
    if timestamp is None or not 0 <= timestamp < 2**44:
        return None
    return datetime.fromtimestamp(timestamp / 1000, UTC)
