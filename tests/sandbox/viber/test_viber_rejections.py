"""The fake Viber refuses what Viber refuses: HTTP 200, non-zero status, Viber's words."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox.viber import FakeViber
from tests.sandbox.viber.conftest import TOKEN, Webhook

AUTH = {"X-Viber-Auth-Token": TOKEN}
SENDER = {"name": "Support"}


def text(receiver: str = "{user}", **extra: Any) -> dict[str, Any]:
    return {"receiver": receiver, "type": "text", "text": "hi", "sender": SENDER, **extra}


CASES: list[tuple[str, str, dict[str, str], Any, int, str]] = [
    ("no token", "get_account_info", {}, {}, 2, "missing_auth_token"),
    ("wrong token", "get_account_info", {"X-Viber-Auth-Token": "bad"}, {}, 2, "invalidAuthToken"),
    ("malformed JSON", "send_message", AUTH, b"{not json", 3, "badData"),
    ("body over 30 KB", "send_message", AUTH, text(text="x" * 31_000), 3, "badData"),
    ("no receiver", "send_message", AUTH, text(receiver=""), 4, "missingData"),
    ("no sender", "send_message", AUTH, text(sender=None), 4, "missingData"),
    ("sender name over 28", "send_message", AUTH, text(sender={"name": "n" * 29}), 3, "badData"),
    ("text over 7000", "send_message", AUTH, text(text="t" * 7001), 3, "badData"),
    ("unknown type", "send_message", AUTH, text(type="hologram"), 3, "badData"),
    (
        "picture without media",
        "send_message",
        AUTH,
        text(type="picture", text="caption"),
        4,
        "missingData",
    ),
    (
        "file without size",
        "send_message",
        AUTH,
        text(type="file", media="https://x/f.pdf", file_name="f.pdf"),
        4,
        "missingData",
    ),
    (
        "tracking_data over 4000",
        "send_message",
        AUTH,
        text(tracking_data="d" * 4001),
        3,
        "badData",
    ),
    (
        "receiver never seen",
        "send_message",
        AUTH,
        text(receiver="nobody=="),
        5,
        "receiverNotRegistered",
    ),
    (
        "receiver not subscribed",
        "send_message",
        AUTH,
        text(receiver="{stranger}"),
        6,
        "notSubscribed",
    ),
    ("user details without id", "get_user_details", AUTH, {}, 4, "missingData"),
    ("webhook with a bad URL", "set_webhook", AUTH, {"url": "ftp://x"}, 1, "invalidUrl"),
]


@pytest.mark.parametrize(
    ("endpoint", "headers", "body", "status", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_fake_viber_rejects_like_viber(
    fake_viber: FakeViber,
    webhook: Webhook,
    endpoint: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    message: str,
) -> None:
    await fake_viber.set_webhook(webhook.url)
    user = fake_viber.add_user(name="Olena", subscribed=True)
    stranger = fake_viber.add_user(name="Stranger")
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if v is not None}
        if body.get("receiver") == "{user}":
            body["receiver"] = user
        if body.get("receiver") == "{stranger}":
            body["receiver"] = stranger
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake_viber.public_url}/{endpoint}", headers=headers, **kwargs) as response,
    ):
        assert response.status == 200
        answer = await response.json()
    assert answer["status"] == status
    assert answer["status_message"] == message
    assert "message_token" not in answer
    assert fake_viber.received(user) == []


async def test_sending_before_a_webhook_is_set_is_refused(fake_viber: FakeViber) -> None:
    user = fake_viber.add_user(subscribed=True)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_viber.public_url}/send_message", headers=AUTH, json=text(receiver=user)
        ) as response,
    ):
        answer = await response.json()
    assert (answer["status"], answer["status_message"]) == (10, "webhookNotSet")


@pytest.mark.parametrize(
    "message",
    [
        {"type": "text", "text": "hello"},
        {"type": "picture", "text": "look", "media": "https://example.org/a.jpg"},
        {"type": "video", "media": "https://example.org/v.mp4", "size": 1000},
        {"type": "file", "media": "https://example.org/f.pdf", "size": 10, "file_name": "f.pdf"},
        {"type": "sticker", "sticker_id": 46105},
        {"type": "url", "media": "https://example.org"},
        {"type": "location", "location": {"lat": 50.45, "lon": 30.52}},
        {"type": "contact", "contact": {"name": "Ann", "phone_number": "+380000000"}},
    ],
    ids=lambda m: m["type"],
)
async def test_every_message_type_is_accepted_with_a_64_bit_token(
    fake_viber: FakeViber, webhook: Webhook, message: dict[str, Any]
) -> None:
    await fake_viber.set_webhook(webhook.url)
    user = fake_viber.add_user(subscribed=True)
    body = {"receiver": user, "sender": SENDER, **message}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake_viber.public_url}/send_message", headers=AUTH, json=body) as response,
    ):
        answer = await response.json()
    assert answer["status"] == 0, answer
    assert answer["message_token"] > 2**53
    assert fake_viber.received(user)[0]["type"] == message["type"]
