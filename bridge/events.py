"""Plain frozen dataclasses that cross the seams between adapters, the core and the desk.

No platform dict travels past an adapter: it converts its payloads into these at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AttachmentKind = Literal[
    "photo", "document", "voice", "audio", "video", "sticker", "location", "contact", "link"
]


@dataclass(frozen=True, slots=True)
class Attachment:
    """One piece of media or structured content in a message.

    `url` or `file_ref` says where the bytes are: `file_ref` is a platform-specific handle the
    same platform can resend (a Telegram file_id, a VK attachment string); `url` is fetchable.
    `data` carries the bytes themselves when the adapter already downloaded them.
    """

    kind: AttachmentKind
    url: str | None = None
    file_ref: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    caption: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What a platform told us about a customer; every field may be unknown."""

    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    display_name: str | None = None
    language: str | None = None
    avatar_url: str | None = None

    @property
    def full_name(self) -> str | None:
        """The best human name we have, or None when the platform gave none."""
        if self.display_name and self.display_name.strip():
            return self.display_name.strip()
        parts = [p.strip() for p in (self.first_name, self.last_name) if p and p.strip()]
        if parts:
            return " ".join(parts)
        if self.username and self.username.strip():
            return self.username.strip()
        return None


@dataclass(frozen=True, slots=True)
class Inbound:
    """A customer's message (or edit) as every adapter reports it to the core.

    `channel` is the config's channel name (telegram, vk, viber, facebook, site:<widget>),
    `chat` the platform's id of the conversation with this customer (where replies go),
    `user` the customer's platform id, `external_id` the platform's id of this message,
    unique per channel; a repeat with the same external_id is a duplicate and is dropped.
    """

    channel: str
    chat: str
    user: str
    external_id: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    profile: CustomerProfile | None = None
    sent_at: datetime | None = None
    edit_of: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """An operator's message on its way to a customer on their platform."""

    channel: str
    chat: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    idempotency_key: str | None = None
    edit_of: str | None = None
