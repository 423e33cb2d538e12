"""aiogram Message (a customer's private message) → `bridge.events.Inbound`.

Covers text, photo, document, voice, audio, video, sticker, location and contact, with
captions; an edited message becomes an Inbound with `edit_of` set. Telegram's message ids are
unique per chat, so the external id is "<chat id>:<message id>".
"""

from __future__ import annotations

from aiogram.types import Message, User

from bridge.events import Attachment, CustomerProfile, Inbound

CHANNEL = "telegram"


def external_id(chat_id: int, message_id: int) -> str:
    """The stored id of a Telegram message (message ids are per chat)."""
    return f"{chat_id}:{message_id}"


def profile_of(user: User | None) -> CustomerProfile | None:
    """What Telegram tells about a user: names, username, language."""
    if user is None:
        return None
    return CustomerProfile(
        first_name=user.first_name or None,
        last_name=user.last_name or None,
        username=user.username or None,
        language=user.language_code or None,
    )


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The message's media as `Attachment`s (file_ref = Telegram file_id)."""
    caption = message.caption or None
    if message.photo:
        largest = message.photo[-1]
        return (
            Attachment("photo", file_ref=largest.file_id, size=largest.file_size, caption=caption),
        )
    if message.document:
        doc = message.document
        return (
            Attachment(
                "document",
                file_ref=doc.file_id,
                file_name=doc.file_name,
                mime_type=doc.mime_type,
                size=doc.file_size,
                caption=caption,
            ),
        )
    if message.voice:
        voice = message.voice
        return (
            Attachment(
                "voice",
                file_ref=voice.file_id,
                mime_type=voice.mime_type,
                size=voice.file_size,
                caption=caption,
            ),
        )
    if message.audio:
        audio = message.audio
        return (
            Attachment(
                "audio",
                file_ref=audio.file_id,
                file_name=audio.file_name,
                mime_type=audio.mime_type,
                size=audio.file_size,
                caption=caption,
            ),
        )
    if message.video:
        video = message.video
        return (
            Attachment(
                "video",
                file_ref=video.file_id,
                mime_type=video.mime_type,
                size=video.file_size,
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


def to_inbound(message: Message, *, edited: bool = False) -> Inbound:
    """A customer's private message (or its edit) as the core's Inbound."""
    chat_id = message.chat.id
    user = message.from_user
    own_id = external_id(chat_id, message.message_id)
    return Inbound(
        channel=CHANNEL,
        chat=str(chat_id),
        user=str(user.id if user else chat_id),
        external_id=f"{own_id}:edit:{message.edit_date}" if edited else own_id,
        # A media message's words are its caption (also kept on the attachment, which the
        # desk posts with it): the card, /history and an edit's notice read the text.
        text=message.text or message.caption or "",
        attachments=attachments_of(message),
        profile=profile_of(user),
        sent_at=message.date,
        edit_of=own_id if edited else None,
    )
