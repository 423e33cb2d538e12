"""Every kind of media both ways through the fake Telegram: customer → topic, operator → customer.

A customer's document, voice, video, sticker, location, contact and photo show in their topic as
the same kind of message (before and after an accept) and are stored once; the claimer's voice,
sticker and formatted text reach the customer as voice, sticker and formatted text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from desk_harness import Desk, accept_card, accepted, eventually, running_desk
from sqlmodel import col, select

from storage.db import create_engine, session_factory
from storage.messages import conversation_messages
from storage.models import Message


@dataclass(frozen=True)
class Sent:
    """One kind of customer message: how the customer sends it, what the topic must show."""

    kind: str
    send: Callable[[Desk], dict[str, Any]]
    caption: str | None = None  # the caption the topic's copy shows
    content: dict[str, Any] | None = None  # fields of the copy's `kind` object that must match


KINDS = [
    Sent(
        "document",
        lambda d: d.fake.user_sends_document(
            d.customer, b"%PDF-1.4", "invoice.pdf", caption="my <invoice>"
        ),
        caption="my <invoice>",
        content={"file_name": "invoice.pdf"},
    ),
    Sent("voice", lambda d: d.fake.user_sends_voice(d.customer, duration=3)),
    Sent(
        "video",
        lambda d: d.fake.user_sends_video(d.customer, caption="how it broke"),
        caption="how it broke",
    ),
    Sent("sticker", lambda d: d.fake.user_sends_sticker(d.customer, "🔥")),
    Sent(
        "location",
        lambda d: d.fake.user_sends_location(d.customer, 55.75, 37.61),
        content={"latitude": 55.75, "longitude": 37.61},
    ),
    Sent(
        "contact",
        lambda d: d.fake.user_sends_contact(d.customer, "+79991234567", "Пётр"),
        content={"phone_number": "+79991234567", "first_name": "Пётр"},
    ),
    Sent(
        "photo",
        lambda d: d.fake.user_sends_photo(d.customer, caption="the receipt & stamp"),
        caption="the receipt & stamp",
    ),
]


def file_id_of(sent: dict[str, Any], kind: str) -> str | None:
    """The file_id of a message as the bots received it (the largest size of a photo)."""
    value = sent.get(kind)
    if isinstance(value, list):
        return value[-1]["file_id"]
    return value.get("file_id") if isinstance(value, dict) else None


def shown_in_topic(desk: Desk, topic: int, kind: str) -> list[Any]:
    """The bot's messages of `kind` the customer's topic shows now."""
    return [m for m in desk.fake.chat_view(desk.group_id, topic=topic) if m.kind == kind]


def kind_object(desk: Desk, chat_id: int, message_id: int, kind: str) -> dict[str, Any]:
    """The `kind` object (contact, location, document, ...) of a message the fake holds."""
    chat = desk.fake.world.groups[chat_id]
    return chat.messages[message_id].content[kind]


async def stored_with(desk: Desk, kind: str) -> list[Message]:
    """Every row of the messages table (any conversation) with an attachment of `kind`."""
    engine = create_engine(desk.db)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.exec(select(Message).order_by(col(Message.id)))).all()
    finally:
        await engine.dispose()
    return [m for m in rows if any(a.get("kind") == kind for a in m.attachments or [])]


async def conversation_of(desk: Desk, conversation_id: int) -> list[Message]:
    """A conversation's messages as the bridge reads them back (/history, a topic's history)."""
    engine = create_engine(desk.db)
    try:
        async with session_factory(engine)() as session:
            return await conversation_messages(session, conversation_id)
    finally:
        await engine.dispose()


async def assert_shown_and_stored_once(
    desk: Desk, topic: int, case: Sent, sent: dict[str, Any]
) -> None:
    shown = await eventually(
        lambda: shown_in_topic(desk, topic, case.kind), what=f"a {case.kind} in the topic"
    )
    assert len(shown) == 1, shown
    copy = shown[0]
    assert copy.from_id != desk.customer.id  # the bot's copy
    if case.caption is not None:
        assert copy.caption == case.caption  # shown as typed (escaped for HTML, not mangled)
        assert not any(case.caption in (m.text or "") for m in desk.topic_messages(topic))
    expected_file = file_id_of(sent, case.kind)
    if expected_file is not None:
        assert copy.file_id == expected_file  # the customer's own file, not a placeholder
    for name, value in (case.content or {}).items():
        assert kind_object(desk, desk.group_id, copy.message_id, case.kind)[name] == value
    rows = await stored_with(desk, case.kind)
    assert len(rows) == 1, rows
    assert rows[0].direction == "in"
    assert rows[0].external_id == f"{sent['chat']['id']}:{sent['message_id']}"
    assert [a["kind"] for a in rows[0].attachments or []] == [case.kind]
    in_conversation = await conversation_of(desk, rows[0].conversation_id)
    assert [m.id for m in in_conversation if m.id == rows[0].id] == [rows[0].id]


@pytest.mark.parametrize("case", KINDS, ids=[c.kind for c in KINDS])
async def test_a_customers_media_after_accept_shows_in_the_topic_as_the_same_kind(
    sqlite_url, case: Sent
) -> None:
    async with running_desk(sqlite_url) as desk:
        topic = await accepted(desk, desk.ann, "hi")
        sent = case.send(desk)
        await assert_shown_and_stored_once(desk, topic, case, sent)


async def wait_stored(desk: Desk, kind: str, sent: dict[str, Any], wait: float = 10.0) -> None:
    """Wait until the bridge has stored the customer's message `sent`."""
    deadline = asyncio.get_running_loop().time() + wait
    while not [
        m
        for m in await stored_with(desk, kind)
        if m.external_id == f"{sent['chat']['id']}:{sent['message_id']}"
    ]:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"message {sent['message_id']} was never stored")
        await asyncio.sleep(0.1)


async def test_media_sent_before_accept_is_in_the_topics_history(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "hi")
        card = await eventually(desk.card)
        sent = [(case, case.send(desk)) for case in KINDS]
        for case, message in sent:
            await wait_stored(desk, case.kind, message)
        assert fake.topics(desk.group_id) == []  # nobody has accepted yet
        await accept_card(desk, desk.ann, card)
        topic = (await eventually(lambda: fake.topics(desk.group_id)))[0].thread_id
        for case, message in sent:
            await assert_shown_and_stored_once(desk, topic, case, message)


def private_message(desk: Desk, message_id: int) -> Any:
    """The fake's record of a message in the customer's private chat with the bot."""
    chat = next(c for c in desk.fake.world.private.values() if c.user_id == desk.customer.id)
    return chat.messages[message_id]


async def test_claimers_voice_sticker_and_formatted_text_reach_the_customer(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann, "hi")
        in_topic = {"chat_id": desk.group_id, "topic": topic}
        voice = fake.user_sends_voice(desk.ann, b"OggS-answer", duration=2, **in_topic)
        sticker = fake.user_sends_sticker(desk.ann, "🙂", **in_topic)
        text = "Done: bold and italic, see the guide"
        entities = [
            {"type": "bold", "offset": text.index("bold"), "length": len("bold")},
            {"type": "italic", "offset": text.index("italic"), "length": len("italic")},
            {
                "type": "text_link",
                "offset": text.index("the guide"),
                "length": len("the guide"),
                "url": "https://example.com/guide",
            },
        ]
        fake.user_says(desk.ann, text, entities=entities, **in_topic)

        await eventually(
            lambda: {"voice", "sticker", "text"} <= {m.kind for m in desk.customer_sees()},
            what="the voice, the sticker and the text at the customer",
        )
        received = desk.customer_sees()
        assert [m.kind for m in received] == ["voice", "sticker", "text"]  # once each, in order
        by_kind = {m.kind: m for m in received}
        assert by_kind["voice"].file_id == voice["voice"]["file_id"]
        assert by_kind["sticker"].file_id == sticker["sticker"]["file_id"]
        assert by_kind["text"].text == text

        to_customer = [
            c
            for c in fake.calls("sendMessage")
            if str(c.params.get("chat_id")) == str(desk.customer.id) and c.status == 200
        ]
        assert len(to_customer) == 1
        params = to_customer[0].params
        assert params["parse_mode"] == "HTML"
        assert "<b>bold</b>" in params["text"]
        assert "<i>italic</i>" in params["text"]
        assert '<a href="https://example.com/guide">the guide</a>' in params["text"]
        shown = private_message(desk, by_kind["text"].message_id)
        assert [
            (e["type"], text[e["offset"] : e["offset"] + e["length"]], e.get("url"))
            for e in shown.entities
        ] == [
            ("bold", "bold", None),
            ("italic", "italic", None),
            ("text_link", "the guide", "https://example.com/guide"),
        ]
