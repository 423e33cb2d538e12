"""The outbox payload of a reply to a customer: `Outbound` ⇄ JSON, the same for every adapter.

Whoever queues a reply for VK, Viber or Facebook writes `outbound_payload(outbound)` as the
outbox row's payload (platform = the channel family, destination = the chat); the platform's
sender reads it back with `outbound_from_payload`. Attachment bytes travel base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, get_args

from bridge.errors import PermanentError
from bridge.events import MAX_ACTION, Attachment, AttachmentKind, Choice, Outbound

KINDS = frozenset(get_args(AttachmentKind))
_TEXT_FIELDS = ("url", "file_ref", "file_name", "mime_type", "caption")


def outbound_payload(outbound: Outbound) -> dict[str, Any]:
    """A JSON-serialisable dict describing `outbound`."""
    return {
        "channel": outbound.channel,
        "chat": outbound.chat,
        "text": outbound.text,
        "attachments": [_attachment_json(a) for a in outbound.attachments],
        "idempotency_key": outbound.idempotency_key,
        "edit_of": outbound.edit_of,
        **(
            {"choices": [[c.label, c.action, c.hint] for c in outbound.choices]}
            if outbound.choices
            else {}
        ),
    }


def _attachment_json(attachment: Attachment) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": attachment.kind}
    for name in (*_TEXT_FIELDS, "size", "latitude", "longitude"):
        value = getattr(attachment, name)
        if value is not None:
            out[name] = value
    if attachment.data is not None:
        out["data_b64"] = base64.b64encode(attachment.data).decode("ascii")
    return out


def outbound_from_payload(payload: Any) -> Outbound:
    """The `Outbound` an outbox row describes; PermanentError when the row is not one."""
    if not isinstance(payload, dict):
        raise PermanentError("outbox payload is not an object")
    chat, text = payload.get("chat"), payload.get("text", "") or ""
    if not isinstance(chat, str) or not chat:
        raise PermanentError("outbox payload has no chat")
    if not isinstance(text, str):
        raise PermanentError("outbox payload text is not a string")
    raw_attachments = payload.get("attachments") or []
    if not isinstance(raw_attachments, list):
        raise PermanentError("outbox payload attachments is not a list")
    attachments = tuple(_attachment_from(a) for a in raw_attachments)
    if not text and not attachments:
        raise PermanentError("nothing to send: no text and no attachments")
    return Outbound(
        choices=_choices_from(payload.get("choices")),
        channel=str(payload.get("channel") or ""),
        chat=chat,
        text=text,
        attachments=attachments,
        idempotency_key=payload.get("idempotency_key"),
        edit_of=payload.get("edit_of"),
    )


def _choices_from(raw: Any) -> tuple[Choice, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(
        isinstance(item, list)
        and len(item) == 3
        and all(isinstance(part, str) for part in item)
        and item[0]
        and 0 < len(item[1]) <= MAX_ACTION
        for item in raw
    ):
        raise PermanentError("outbox payload choices are not [label, action, hint] lists")
    return tuple(Choice(label, action, hint) for label, action, hint in raw)


def _attachment_from(raw: Any) -> Attachment:
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
        raise PermanentError(f"outbox attachment is not valid: {raw!r:.200}")
    data = None
    if raw.get("data_b64") is not None:
        try:
            data = base64.b64decode(raw["data_b64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise PermanentError("outbox attachment data is not base64") from None
    values = {name: raw.get(name) for name in _TEXT_FIELDS}
    return Attachment(
        kind=raw["kind"],
        size=raw.get("size"),
        latitude=raw.get("latitude"),
        longitude=raw.get("longitude"),
        data=data,
        **values,
    )
