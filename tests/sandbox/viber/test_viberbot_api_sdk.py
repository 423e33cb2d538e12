"""viberbot's `Api`, used as Viber's own README shows it, as an independent client of the fake.

Calls go through `Api(BotConfiguration(...))` unchanged but for the API URL it was built with
(`VIBER_BOT_API_URL`, the one constant viberbot reads it from); the fake's deliveries to a local
aiohttp webhook are checked with `Api.verify_signature` on the raw body and parsed with
`Api.parse_request` into viberbot's own request and message classes. A field the fake names or
types wrongly shows here as a missing attribute, a KeyError inside viberbot or the wrong class,
independently of the bridge's reading of Viber.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from viberbot.api.api import Api
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.event_type import EventType
from viberbot.api.messages import (
    ContactMessage,
    FileMessage,
    KeyboardMessage,
    LocationMessage,
    PictureMessage,
    StickerMessage,
    TextMessage,
    URLMessage,
    VideoMessage,
)
from viberbot.api.messages.data_types.contact import Contact
from viberbot.api.messages.data_types.location import Location
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
)

from sandbox.viber import FakeViber
from tests.sandbox.viber.conftest import TOKEN, Webhook

EVERY_EVENT = [
    EventType.DELIVERED,
    EventType.SEEN,
    EventType.FAILED,
    EventType.SUBSCRIBED,
    EventType.UNSUBSCRIBED,
    EventType.CONVERSATION_STARTED,
]
KEYBOARD = {
    "Type": "keyboard",
    "Buttons": [
        {"Columns": 6, "Rows": 1, "ActionType": "reply", "ActionBody": "yes", "Text": "Yes"}
    ],
}


def viber_api(fake_url: str, monkeypatch: pytest.MonkeyPatch, token: str = TOKEN) -> Api:
    """viberbot's Api, built while its API URL constant names the fake."""
    monkeypatch.setattr("viberbot.api.api.VIBER_BOT_API_URL", fake_url)
    return Api(BotConfiguration(auth_token=token, name="Support", avatar="https://x.test/a.png"))


@pytest.fixture
async def api(fake_viber: FakeViber, webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> Api:
    bot = viber_api(fake_viber.public_url, monkeypatch)
    await asyncio.to_thread(bot.set_webhook, webhook.url, EVERY_EVENT)
    return bot


@pytest.fixture
async def subscriber(fake_viber: FakeViber) -> AsyncIterator[str]:
    yield fake_viber.add_user(name="Олена Коваль", avatar="https://x.test/o.jpg", subscribed=True)


def parsed(api: Api, webhook: Webhook, index: int = -1) -> Any:
    """The delivery at `index`, its signature checked by viberbot and parsed by it."""
    body, signature = webhook.raw[index], webhook.signatures[index]
    assert api.verify_signature(body, signature)
    return api.parse_request(body)


async def failure(call: Any, *args: Any) -> str:
    """viberbot's report of a non-zero status (it raises a bare Exception with the status)."""
    with pytest.raises(Exception, match="failed with status") as caught:
        await asyncio.to_thread(call, *args)
    return str(caught.value)


# ---- calls ---------------------------------------------------------------------------------


async def test_set_webhook_with_every_documented_event_type_is_accepted(
    fake_viber: FakeViber, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = viber_api(fake_viber.public_url, monkeypatch)
    enabled = await asyncio.to_thread(bot.set_webhook, webhook.url, EVERY_EVENT)
    assert set(enabled) == set(EVERY_EVENT)
    check = parsed(bot, webhook, 0)
    assert type(check) is ViberRequest and check.event_type == EventType.WEBHOOK
    assert isinstance(check.timestamp, int)
    info = await asyncio.to_thread(bot.get_account_info)
    assert info["status"] == 0 and info["webhook"] == webhook.url
    assert set(info["event_types"]) == set(EVERY_EVENT)

    await asyncio.to_thread(bot.unset_webhook)
    assert (await asyncio.to_thread(bot.get_account_info))["webhook"] == ""


async def test_send_messages_sends_every_viberbot_message_class(
    fake_viber: FakeViber, api: Api, subscriber: str
) -> None:
    messages = [
        TextMessage(text="Добрий день", keyboard=KEYBOARD, tracking_data="conv-1"),
        PictureMessage(media="https://x.test/p.jpg", text="a photo"),
        FileMessage(media="https://x.test/f.pdf", size=1024, file_name="invoice.pdf"),
        VideoMessage(media="https://x.test/v.mp4", size=2048, duration=3),
        URLMessage(media="https://x.test/page"),
        LocationMessage(location=Location(lat=50.45, lon=30.52)),
        ContactMessage(contact=Contact(name="Desk", phone_number="+380441234567")),
        StickerMessage(sticker_id=40100),
        KeyboardMessage(keyboard=KEYBOARD),
    ]
    tokens = await asyncio.to_thread(api.send_messages, subscriber, messages)
    received = fake_viber.received(subscriber)
    assert [m["message_token"] for m in received] == tokens
    assert all(isinstance(t, int) and t > 2**53 for t in tokens)  # 64-bit, never a float
    assert [m.get("type") for m in received] == [
        "text", "picture", "file", "video", "url", "location", "contact", "sticker", None
    ]  # fmt: skip
    assert received[-1]["keyboard"] == KEYBOARD  # a keyboard alone: viberbot sends no type
    assert received[0]["sender"] == {"name": "Support", "avatar": "https://x.test/a.png"}
    assert received[0]["tracking_data"] == "conv-1"
    assert received[2]["file_name"] == "invoice.pdf" and received[2]["size"] == 1024


async def test_user_details_and_online_status_come_back_as_documented(
    fake_viber: FakeViber, api: Api, subscriber: str
) -> None:
    user = await asyncio.to_thread(api.get_user_details, subscriber)
    assert user["id"] == subscriber and user["name"] == "Олена Коваль"
    assert {"avatar", "country", "language", "primary_device_os", "api_version"} <= set(user)
    assert {"viber_version", "mcc", "mnc", "device_type"} <= set(user)
    [online] = await asyncio.to_thread(api.get_online, [subscriber])
    assert online["id"] == subscriber and online["online_status"] in range(5)


async def test_viber_statuses_reach_viberbot_as_its_failure_reports(
    fake_viber: FakeViber, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = viber_api(fake_viber.public_url, monkeypatch)
    stranger = fake_viber.add_user(name="Not subscribed")
    hello = TextMessage(text="hello")
    no_webhook = await failure(bot.send_messages, stranger, hello)
    assert "status: 10, message: webhookNotSet" in no_webhook
    await asyncio.to_thread(bot.set_webhook, webhook.url)

    assert "status: 5, message: receiverNotRegistered" in await failure(
        bot.send_messages, "nobody==", hello
    )
    assert "status: 6, message: notSubscribed" in await failure(bot.send_messages, stranger, hello)
    assert "status: 5," in await failure(bot.get_user_details, "nobody==")
    intruder = viber_api(fake_viber.public_url, monkeypatch, token="stolen-token")
    assert "status: 2, message: invalidAuthToken" in await failure(intruder.get_user_details, "x")
    fake_viber.subscribed.add(stranger)
    too_long = TextMessage(text="x" * 7001)
    assert "status: 3, message: badData" in await failure(bot.send_messages, stranger, too_long)


# ---- deliveries from the fake, parsed by viberbot -------------------------------------------


async def test_customer_messages_parse_into_viberbot_message_classes(
    fake_viber: FakeViber, api: Api, webhook: Webhook, subscriber: str
) -> None:
    sent: list[dict[str, Any]] = [
        {"type": "text", "text": "Привіт, де моє замовлення?", "tracking_data": "conv-1"},
        {"type": "picture", "media": "https://x.test/p.jpg", "text": "", "thumbnail": ""},
        {"type": "file", "media": "https://x.test/f.pdf", "size": 10, "file_name": "a.pdf"},
        {"type": "video", "media": "https://x.test/v.mp4", "size": 20, "duration": 4},
        {"type": "location", "location": {"lat": 50.45, "lon": 30.52}},
        {"type": "contact", "contact": {"name": "Ann", "phone_number": "+380501112233"}},
        {"type": "sticker", "sticker_id": 40100, "media": "https://x.test/s.png"},
        {"type": "url", "media": "https://x.test/page"},
    ]
    for message in sent:
        await fake_viber.customer_message(subscriber, message=message)
    requests = [parsed(api, webhook, i) for i in range(1, 1 + len(sent))]
    assert all(type(r) is ViberMessageRequest for r in requests)
    assert {r.event_type for r in requests} == {EventType.MESSAGE}
    first = requests[0]
    assert first.sender.id == subscriber and first.sender.name == "Олена Коваль"
    assert first.sender.avatar == "https://x.test/o.jpg" and first.sender.api_version == 10
    assert (first.sender.country, first.sender.language) == ("UA", "uk")
    assert isinstance(first.message_token, int) and first.message_token > 2**53
    assert isinstance(first.timestamp, int)

    text, picture, file, video, location, contact, sticker, url = (r.message for r in requests)
    assert isinstance(text, TextMessage) and text.text == "Привіт, де моє замовлення?"
    assert text.tracking_data == "conv-1"
    assert isinstance(picture, PictureMessage) and picture.media == "https://x.test/p.jpg"
    assert isinstance(file, FileMessage)
    assert (file.media, file.size, file.file_name) == ("https://x.test/f.pdf", 10, "a.pdf")
    assert isinstance(video, VideoMessage) and (video.size, video.duration) == (20, 4)
    assert isinstance(location, LocationMessage)
    assert (location.location.latitude, location.location.longitude) == (50.45, 30.52)
    assert isinstance(contact, ContactMessage)
    assert contact.contact.phone_number == "+380501112233"
    assert isinstance(sticker, StickerMessage) and sticker.sticker_id == 40100
    assert isinstance(url, URLMessage) and url.media == "https://x.test/page"


async def test_subscription_events_parse_into_their_viberbot_requests(
    fake_viber: FakeViber, api: Api, webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Ann", country="PL", language="pl")
    await fake_viber.conversation_started(user, context="ad-campaign")
    started = parsed(api, webhook)
    assert isinstance(started, ViberConversationStartedRequest)
    assert (started.type, started.context, started.subscribed) == ("open", "ad-campaign", False)
    assert started.user.id == user and started.user.name == "Ann"
    assert started.user.country == "PL" and isinstance(started.message_token, int)

    await fake_viber.customer_subscribes(user)
    subscribed = parsed(api, webhook)
    assert isinstance(subscribed, ViberSubscribedRequest)
    assert subscribed.user.id == user and subscribed.user.language == "pl"

    await fake_viber.customer_unsubscribes(user)
    unsubscribed = parsed(api, webhook)
    assert isinstance(unsubscribed, ViberUnsubscribedRequest) and unsubscribed.user_id == user


async def test_receipts_parse_into_delivered_seen_and_failed_requests(
    fake_viber: FakeViber, api: Api, webhook: Webhook, subscriber: str
) -> None:
    [token] = await asyncio.to_thread(api.send_messages, subscriber, TextMessage(text="hi"))
    await fake_viber.receipt("delivered", subscriber, token)
    await fake_viber.receipt("seen", subscriber, token)
    await fake_viber.receipt("failed", subscriber, token, desc="invalid keyboard")
    delivered, seen, failed = (parsed(api, webhook, i) for i in (-3, -2, -1))
    assert isinstance(delivered, ViberDeliveredRequest)
    assert (delivered.message_token, delivered.user_id) == (token, subscriber)
    assert isinstance(seen, ViberSeenRequest) and seen.message_token == token
    assert seen.user_id == subscriber
    assert isinstance(failed, ViberFailedRequest) and failed.desc == "invalid keyboard"
    assert (failed.message_token, failed.user_id) == (token, subscriber)


async def test_verify_signature_refuses_a_changed_body_or_another_bots_signature(
    fake_viber: FakeViber, api: Api, webhook: Webhook, subscriber: str, monkeypatch: Any
) -> None:
    await fake_viber.customer_message(subscriber, "ціна?")
    body, signature = webhook.raw[-1], webhook.signatures[-1]
    assert "ціна".encode() in body  # UTF-8 as sent, and the signature covers these bytes
    assert api.verify_signature(body, signature)
    assert not api.verify_signature(body.replace("ціна".encode(), b"cina"), signature)
    other_bot = viber_api(fake_viber.public_url, monkeypatch, token="other-bot-token")
    assert not other_bot.verify_signature(body, signature)
