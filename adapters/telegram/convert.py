"""aiogram Message (a customer's private message) → `bridge.events.Inbound`.

Covers text, photo, document, voice, audio, video, sticker, location and contact, with
captions (the media and the external id "<chat id>:<message id>" are read as the desk reads
an operator's message: botapi/messages.py); an edited message becomes an Inbound with
`edit_of` set. A press of an inline button in the private chat becomes an Inbound with the
button's callback_data as its `action` (`press_to_inbound`).
"""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message, User

from botapi.messages import attachments_of, external_id
from bridge.events import CustomerProfile, Inbound

CHANNEL = "telegram"


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


def press_to_inbound(query: CallbackQuery) -> Inbound | None:
    """A customer's press of an inline button under the bot's message in their private chat;
    None without data (a game button) or without the message (too old to be shown)."""
    if not query.data or query.message is None:
        return None
    user = query.from_user
    return Inbound(
        channel=CHANNEL,
        chat=str(query.message.chat.id),
        user=str(user.id),
        external_id=f"press:{query.id}",
        profile=profile_of(user),
        action=query.data,
    )
