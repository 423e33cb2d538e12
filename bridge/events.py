"""Plain frozen dataclasses that cross the seams between adapters, the core and the desk.

No platform dict travels past an adapter: it converts its payloads into these at the edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

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
class Choice:
    """One button of a choice offered to a customer (a star of a rating request).

    `label` is what the button shows; `action` what its press reports back as
    `Inbound.action` ("rate:<conversation id>:<stars>", bridge/core/ratings.py), at most
    `MAX_ACTION` characters so every platform's button payload can carry it. `hint` is the
    button's accessible name where a platform can carry one (the widget's "Rate 4 of 5").
    """

    label: str
    action: str
    hint: str = ""


#: The longest `Choice.action` (Telegram's callback_data is 64 bytes; ASCII actions only).
MAX_ACTION = 64
#: What every action looks like: a verb and its arguments ("rate:12:4"). A platform whose
#: buttons send their action as the customer's text (Viber's reply buttons) recognises a press
#: by it.
ACTION_SHAPE: Final = re.compile(r"[a-z]+(?::[0-9A-Za-z_-]+)+")


@dataclass(frozen=True, slots=True)
class Inbound:
    """A customer's message (or edit) as every adapter reports it to the core.

    `channel` is the config's channel name (telegram, vk, viber, facebook, site:<widget>),
    `chat` the platform's id of the conversation with this customer (where replies go),
    `user` the customer's platform id, `external_id` the platform's id of this message,
    unique per channel; a repeat with the same external_id is a duplicate and is dropped.
    `action` is set when the customer pressed one of the bridge's buttons (the `Choice.action`
    it carries, as the platform reported it back): a press, not a message, which the core
    never stores as one (bridge/core/ratings.py).
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
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """An operator's message on its way to a customer on their platform.

    `choices`: buttons to show with the text, in the platform's own controls (an inline
    keyboard, quick replies); a sender that cannot show them lists them in the text."""

    channel: str
    chat: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    idempotency_key: str | None = None
    edit_of: str | None = None
    choices: tuple[Choice, ...] = ()
