"""A Telegram customer's message (as aiogram parses it) → the core's Inbound."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Message

from adapters.telegram.convert import to_inbound

USER = {
    "id": 501,
    "is_bot": False,
    "first_name": "Ann",
    "last_name": "Lee",
    "username": "ann",
    "language_code": "ru",
}


def message(**content: Any) -> Message:
    return Message.model_validate(
        {
            "message_id": 9,
            "date": 1700000000,
            "from": USER,
            "chat": {"id": 501, "type": "private", "first_name": "Ann"},
            **content,
        }
    )


PHOTO = [
    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
    {"file_id": "big", "file_unique_id": "b", "width": 800, "height": 800},
]


@pytest.mark.parametrize(
    ("content", "kind", "ref"),
    [
        ({"photo": PHOTO, "caption": "look"}, "photo", "big"),
        (
            {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "a.pdf"}},
            "document",
            "d",
        ),
        ({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}}, "voice", "v"),
        (
            {
                "video": {
                    "file_id": "vi",
                    "file_unique_id": "vi",
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                }
            },
            "video",
            "vi",
        ),
        (
            {
                "sticker": {
                    "file_id": "st",
                    "file_unique_id": "st",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            },
            "sticker",
            "st",
        ),
    ],
)
def test_media_becomes_an_attachment_with_the_file_id(content, kind, ref) -> None:
    event = to_inbound(message(**content))
    assert [(a.kind, a.file_ref) for a in event.attachments] == [(kind, ref)]


def test_text_profile_and_ids() -> None:
    event = to_inbound(message(text="hello"))
    assert (event.channel, event.chat, event.user, event.external_id) == (
        "telegram",
        "501",
        "501",
        "501:9",
    )
    assert event.text == "hello"
    assert event.profile is not None and event.profile.full_name == "Ann Lee"
    assert event.profile.language == "ru"


def test_caption_location_and_contact() -> None:
    assert to_inbound(message(photo=PHOTO, caption="cap")).attachments[0].caption == "cap"
    place = to_inbound(message(location={"latitude": 1.5, "longitude": 2.5})).attachments[0]
    assert (place.kind, place.latitude, place.longitude) == ("location", 1.5, 2.5)
    contact = to_inbound(message(contact={"phone_number": "+7999", "first_name": "Bo"}))
    assert (contact.attachments[0].kind, contact.attachments[0].url) == ("contact", "tel:+7999")


def test_an_edit_names_the_original_message() -> None:
    event = to_inbound(message(text="fixed", edit_date=1700000100), edited=True)
    assert event.edit_of == "501:9" and event.external_id != "501:9"


def test_a_media_messages_caption_is_its_text_new_and_edited() -> None:
    sent = to_inbound(message(photo=PHOTO, caption="my recept"))
    assert sent.text == "my recept" and sent.attachments[0].caption == "my recept"
    edited = to_inbound(
        message(photo=PHOTO, caption="my receipt", edit_date=1700000100), edited=True
    )
    assert edited.text == "my receipt" and edited.edit_of == "501:9"
    assert to_inbound(message(photo=PHOTO)).text == ""
