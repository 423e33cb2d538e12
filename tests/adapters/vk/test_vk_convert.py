"""VK events as recorded payloads (objects.json shapes) → bridge updates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.common.updates import Ignored, InboundUpdate, ReachabilityUpdate
from adapters.common.webhook_input import MalformedPayload
from adapters.vk.convert import convert_event

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def test_text_message_becomes_an_inbound_in_the_customers_chat() -> None:
    [update] = convert_event(load("message_new_text.json"))
    assert isinstance(update, InboundUpdate)
    event = update.event
    assert (event.chat, event.user, event.external_id) == ("501", "501", "1201")
    assert event.text == "Здравствуйте! Где мой заказ?"
    assert event.sent_at is not None and event.sent_at.year == 2025


def test_media_message_keeps_every_usable_attachment_and_the_location() -> None:
    [update] = convert_event(load("message_new_media.json"))
    assert isinstance(update, InboundUpdate)
    got = [(a.kind, a.url) for a in update.event.attachments]
    assert got == [
        ("photo", "https://sun9-1.userapi.com/w.jpg"),  # the largest size
        ("document", "https://vk.com/doc501_668123?hash=x"),
        ("voice", "https://psv4.userapi.com/voice.ogg"),
        ("sticker", "https://vk.com/sticker/1-9-256"),
        ("link", "https://vk.com/wall-77_55"),
        ("link", "https://shop.example.com/item/1"),
        ("location", None),
    ]
    photo, doc = update.event.attachments[:2]
    assert photo.file_ref == "photo501_457239017_a1b2c3d4e5"
    assert (doc.file_name, doc.size) == ("invoice.pdf", 48213)
    assert update.event.attachments[-1].latitude == 55.75


def test_deny_means_unreachable() -> None:
    assert convert_event(load("message_deny.json")) == [
        ReachabilityUpdate("501", False, "denied messages from the community")
    ]


def test_the_communitys_own_and_group_chat_messages_are_ignored() -> None:
    own = load("message_new_text.json")
    own["object"]["message"]["out"] = 1
    chat = load("message_new_text.json")
    chat["object"]["message"]["peer_id"] = 2_000_000_005
    for event in (own, chat):
        [update] = convert_event(event)
        assert isinstance(update, Ignored)


def test_unknown_event_types_are_ignored() -> None:
    [update] = convert_event({"type": "group_join", "object": {}, "group_id": 77})
    assert isinstance(update, Ignored)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("object"),
        lambda e: e["object"].pop("message"),
        lambda e: e["object"]["message"].update(from_id="501"),
        lambda e: e["object"]["message"].update(text=5),
        lambda e: e["object"]["message"].update(attachments={"type": "photo"}),
        lambda e: e["object"]["message"].update(attachments=[{"type": "photo", "photo": 3}]),
        lambda e: e["object"]["message"].update(peer_id=True),
        lambda e: e["object"]["message"].update(peer_id=0),
        lambda e: e["object"]["message"].update(peer_id=777),
        lambda e: e.update(type=None),
    ],
)
def test_wrong_shapes_are_malformed(mutate: Any) -> None:
    event = load("message_new_text.json")
    mutate(event)
    with pytest.raises(MalformedPayload):
        convert_event(event)
