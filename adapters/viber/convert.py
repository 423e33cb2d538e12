"""Viber callbacks → bridge updates, parsed with viberbot's own request and message models.

viberbot checks little (it trusts Viber), so after parsing every field the bridge uses is
type-checked here; anything off is `MalformedPayload` (the webhook answers 400). The 64-bit
`message_token` is kept as an exact int and reported as its decimal string, never a float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from viberbot.api import messages as viber_messages
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
    create_request,
)

from adapters.common.updates import (
    DeliveryUpdate,
    Ignored,
    InboundUpdate,
    ReachabilityUpdate,
    Update,
)
from adapters.common.webhook_input import MalformedPayload
from bridge.events import ACTION_SHAPE, Attachment, CustomerProfile, Inbound


def parse_request(body: dict[str, Any]) -> Any:
    """viberbot's typed request for a callback body (MalformedPayload when it cannot parse)."""
    if body.get("event") == "failed" and "desc" not in body:
        # Viber sends some `failed` callbacks without `desc` (aioviberbot#12); viberbot's
        # ViberFailedRequest then raises KeyError, and a 400 would make Viber retry for an hour
        # while the failure is never recorded.
        body = {**body, "desc": None}
    try:
        return create_request(body)
    except Exception as exc:  # viberbot raises bare Exception, KeyError, TypeError…
        raise MalformedPayload(f"not a Viber callback: {type(exc).__name__}: {exc}") from None


def convert_request(request: Any, channel: str = "viber") -> list[Update]:
    """The updates a parsed callback means."""
    if isinstance(request, ViberMessageRequest):
        return [_message(request, channel)]
    if isinstance(request, ViberSubscribedRequest):
        return [ReachabilityUpdate(_user_id(request.user), True, "subscribed to the bot")]
    if isinstance(request, ViberUnsubscribedRequest):
        user = _text(request.user_id, "user_id")
        return [ReachabilityUpdate(user, False, "unsubscribed from the bot")]
    if isinstance(request, ViberDeliveredRequest):
        return [DeliveryUpdate(token_text(request.message_token), "delivered")]
    if isinstance(request, ViberSeenRequest):
        return [DeliveryUpdate(token_text(request.message_token), "seen")]
    if isinstance(request, ViberFailedRequest):
        desc = request.desc if isinstance(request.desc, str) else "failed on the device"
        return [DeliveryUpdate(token_text(request.message_token), "failed", desc)]
    if isinstance(request, ViberConversationStartedRequest):
        _user_id(request.user)
        return [Ignored("conversation_started: answered with the greeting, nothing stored")]
    return [Ignored(f"Viber event {request.event_type!r} is not used")]


def token_text(token: Any) -> str:
    """A message_token as its exact decimal string (ints and digit strings only)."""
    if isinstance(token, bool) or not isinstance(token, int | str):
        raise MalformedPayload("message_token must be an integer")
    text = str(token)
    if not text.isdigit() or len(text) > 20:
        raise MalformedPayload("message_token must be a non-negative 64-bit integer")
    return text


def profile_of(user: Any) -> CustomerProfile | None:
    """What a Viber user object tells about the person (name and avatar may be absent)."""
    name = user.name if isinstance(user.name, str) and user.name.strip() else None
    avatar = user.avatar if isinstance(user.avatar, str) and user.avatar else None
    language = user.language if isinstance(user.language, str) and user.language else None
    if name is None and avatar is None:
        return None
    return CustomerProfile(display_name=name, avatar_url=avatar, language=language)


def _message(request: ViberMessageRequest, channel: str) -> Update:
    user = _user_id(request.sender)
    message = request.message
    text, attachments = _content(message)
    timestamp = request.timestamp
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise MalformedPayload("timestamp must be an integer (milliseconds)")
    sent_at = None
    if 0 <= timestamp < 2**44:
        sent_at = datetime.fromtimestamp(timestamp / 1000, UTC)
    return InboundUpdate(
        Inbound(
            channel=channel,
            chat=user,
            user=user,
            external_id=token_text(request.message_token),
            text=text,
            attachments=attachments,
            profile=profile_of(request.sender),
            sent_at=sent_at,
            # A reply button's press arrives as its ActionBody (adapters/viber/sender.py).
            action=text if not attachments and ACTION_SHAPE.fullmatch(text) else None,
        )
    )


def _content(message: Any) -> tuple[str, tuple[Attachment, ...]]:
    if isinstance(message, viber_messages.TextMessage):
        return _text(message.text, "message.text", allow_empty=True), ()
    if isinstance(message, viber_messages.PictureMessage):
        caption = _opt(message.text)
        return caption or "", (Attachment("photo", url=_url(message.media)),)
    if isinstance(message, viber_messages.VideoMessage):
        return "", (Attachment("video", url=_url(message.media), size=_size(message.size)),)
    if isinstance(message, viber_messages.FileMessage):
        file_name = _opt(message.file_name)
        document = Attachment(
            "document", url=_url(message.media), file_name=file_name, size=_size(message.size)
        )
        return "", (document,)
    if isinstance(message, viber_messages.StickerMessage):
        sticker_id = message.sticker_id
        if isinstance(sticker_id, bool) or not isinstance(sticker_id, int | str):
            raise MalformedPayload("message.sticker_id must be an integer")
        return "", (Attachment("sticker", file_ref=str(sticker_id)),)
    if isinstance(message, viber_messages.LocationMessage):
        location = message.location
        lat = _coordinate(getattr(location, "latitude", None))
        lon = _coordinate(getattr(location, "longitude", None))
        return "", (Attachment("location", latitude=lat, longitude=lon),)
    if isinstance(message, viber_messages.ContactMessage):
        contact = message.contact
        name, phone = _opt(contact.name), _opt(contact.phone_number)
        if phone is None:
            raise MalformedPayload("message.contact needs a phone_number")
        caption = " ".join(p for p in (name, phone) if p)
        return "", (Attachment("contact", caption=caption),)
    if isinstance(message, viber_messages.URLMessage):
        return "", (Attachment("link", url=_url(message.media)),)
    raise MalformedPayload(f"a customer cannot send a {type(message).__name__}")


def _user_id(user: Any) -> str:
    return _text(getattr(user, "id", None), "user.id")


def _text(value: Any, where: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise MalformedPayload(f"{where} must be a string")
    return value


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise MalformedPayload("message.media must be an http(s) URL")
    return value


def _coordinate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedPayload("message.location needs numeric lat and lon")
    return float(value)


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
