"""What both Telegram sides read off an aiogram Message: its stored id and its media.

The operators' desk (an operator's message in a group) and the Telegram customer adapter (a
customer's private message) store a message by `external_id` and turn its media into
`bridge.events.Attachment`s (file_ref = Telegram's file_id) the same way.
"""

from __future__ import annotations

from aiogram.types import Message

from bridge.events import Attachment, AttachmentKind


def external_id(chat_id: int, message_id: int) -> str:
    """The stored id of a Telegram message (message ids are per chat)."""
    return f"{chat_id}:{message_id}"


#: Media kinds sent as files, in the order a message is checked, and whether the name is kept.
_FILES: tuple[tuple[AttachmentKind, bool], ...] = (
    ("document", True),
    ("voice", False),
    ("audio", True),
    ("video", False),
)


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The message's media as `Attachment`s (file_ref = Telegram file_id)."""
    caption = message.caption or None
    if message.photo:
        largest = message.photo[-1]
        return (
            Attachment("photo", file_ref=largest.file_id, size=largest.file_size, caption=caption),
        )
    for kind, named in _FILES:
        media = getattr(message, kind)
        if media:
            return (
                Attachment(
                    kind,
                    file_ref=media.file_id,
                    file_name=media.file_name if named else None,
                    mime_type=media.mime_type,
                    size=media.file_size,
                    caption=caption,
                ),
            )
    if message.sticker:
        return (
            Attachment(
                "sticker", file_ref=message.sticker.file_id, caption=message.sticker.emoji or None
            ),
        )
    if message.location:
        return (
            Attachment(
                "location",
                latitude=message.location.latitude,
                longitude=message.location.longitude,
            ),
        )
    if message.contact:
        contact = message.contact
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        return (Attachment("contact", url=f"tel:{contact.phone_number}", file_name=name),)
    return ()
