"""viberbot works against the fake Viber; callbacks are signed, retried, and limits hold."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest
from viberbot.api.api import Api
from viberbot.api.api_request_sender import ApiRequestSender
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.message_sender import MessageSender
from viberbot.api.messages import PictureMessage, TextMessage
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberMessageRequest,
    ViberSubscribedRequest,
    create_request,
)

from sandbox.common import Clock
from sandbox.runner import serving
from sandbox.viber import FakeViber, sign
from tests.sandbox.viber.conftest import TOKEN, Webhook

AUTH = {"X-Viber-Auth-Token": TOKEN}


def viberbot_clients(url: str) -> tuple[ApiRequestSender, MessageSender]:
    """viberbot's own request and message senders, built with the fake's URL as the API URL."""
    config = BotConfiguration(auth_token=TOKEN, name="Support", avatar="")
    logger = logging.getLogger("test.viber")
    requests_sender = ApiRequestSender(logger, url, config, "ViberBot-Python/1.0.12")
    return requests_sender, MessageSender(logger, requests_sender, config)


async def test_viberbot_sets_webhook_and_sends_its_message_objects(
    fake_viber: FakeViber, webhook: Webhook
) -> None:
    request_sender, message_sender = viberbot_clients(fake_viber.public_url)
    events = await asyncio.to_thread(request_sender.set_webhook, webhook.url)
    assert "delivered" in events
    assert webhook.events[0]["event"] == "webhook"
    user = fake_viber.add_user(name="Olena", subscribed=True)
    token = await asyncio.to_thread(
        message_sender.send_message, user, "Support", None, TextMessage(text="Hello from viberbot")
    )
    picture = PictureMessage(media="https://example.org/p.jpg", text="a photo")
    await asyncio.to_thread(message_sender.send_message, user, "Support", None, picture)
    received = fake_viber.received(user)
    assert received[0]["text"] == "Hello from viberbot"
    assert received[0]["message_token"] == token
    assert received[1]["type"] == "picture"
    details = await asyncio.to_thread(request_sender.get_user_details, user)
    assert details["name"] == "Olena"
    info = await asyncio.to_thread(request_sender.get_account_info)
    assert info["webhook"] == webhook.url


async def test_viberbot_parses_and_verifies_every_callback_the_fake_sends(
    fake_viber: FakeViber, webhook: Webhook
) -> None:
    await fake_viber.set_webhook(webhook.url)
    user = fake_viber.add_user(name="Taras", language="uk")
    await fake_viber.conversation_started(user, context="from-site")
    await fake_viber.customer_subscribes(user)
    await fake_viber.customer_message(user, "Привіт")
    await fake_viber.customer_message(
        user, message={"type": "picture", "media": "https://example.org/i.jpg", "text": ""}
    )
    await fake_viber.receipt("delivered", user, 5_491_174_000_000_000_123)
    await fake_viber.receipt("seen", user, 5_491_174_000_000_000_123)
    await fake_viber.receipt("failed", user, 5_491_174_000_000_000_124, desc="bad keyboard")
    await fake_viber.customer_unsubscribes(user)

    api = Api(BotConfiguration(auth_token=TOKEN, name="Support", avatar=""))
    parsed = []
    for raw, signature in zip(webhook.raw, webhook.signatures, strict=True):
        assert api.verify_signature(raw, signature)
        parsed.append(create_request(json.loads(raw)))
        assert type(api.parse_request(raw.decode())) is type(parsed[-1])
    kinds = [request.event_type for request in parsed]
    assert kinds == [
        "webhook",
        "conversation_started",
        "subscribed",
        "message",
        "message",
        "delivered",
        "seen",
        "failed",
        "unsubscribed",
    ]
    started, subscribed, text = parsed[1], parsed[2], parsed[3]
    assert isinstance(started, ViberConversationStartedRequest) and started.context == "from-site"
    assert isinstance(subscribed, ViberSubscribedRequest) and subscribed.user.name == "Taras"
    assert isinstance(text, ViberMessageRequest)
    assert text.message.text == "Привіт" and text.sender.id == user
    assert text.message_token > 2**53
    assert parsed[4].message.media == "https://example.org/i.jpg"


async def test_failed_callbacks_are_retried_with_the_same_signed_body(
    fake_viber: FakeViber, webhook: Webhook
) -> None:
    await fake_viber.set_webhook(webhook.url)
    webhook.fail_first = 3  # the webhook check succeeded; the next two deliveries fail
    user = fake_viber.add_user()
    delivery = await fake_viber.customer_message(user, "are you there?")
    assert delivery.succeeded
    assert [a.status for a in delivery.attempts] == [503, 503, 200]
    assert len(set(webhook.raw[1:])) == 1
    assert webhook.signatures[1] == sign(TOKEN, webhook.raw[1])


async def test_set_webhook_fails_unless_the_url_answers_200(
    fake_viber: FakeViber, webhook: Webhook
) -> None:
    webhook.fail_first = 1
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_viber.public_url}/set_webhook", headers=AUTH, json={"url": webhook.url}
        ) as response,
    ):
        answer = await response.json()
    assert answer["status"] == 1
    assert fake_viber.webhook_url == ""


async def test_welcome_message_comes_back_in_the_conversation_started_answer(
    fake_viber: FakeViber, webhook: Webhook
) -> None:
    await fake_viber.set_webhook(webhook.url)
    webhook.answer = {"sender": {"name": "Support"}, "type": "text", "text": "Welcome!"}
    delivery = await fake_viber.conversation_started(fake_viber.add_user())
    assert '"Welcome!"' in delivery.attempts[-1].answer


async def _send(session: aiohttp.ClientSession, url: str, user: str) -> dict[str, Any]:
    body = {"receiver": user, "sender": {"name": "S"}, "type": "text", "text": "ping"}
    async with session.post(f"{url}/send_message", headers=AUTH, json=body) as response:
        return await response.json()


@pytest.mark.parametrize("limit", [3, 5])
async def test_messages_without_a_reply_hit_status_12_and_a_reply_resets(
    webhook: Webhook, limit: int
) -> None:
    clock = Clock()
    fake = FakeViber(token=TOKEN, messages_without_reply=limit, clock=clock)
    async with serving(fake.app) as running, aiohttp.ClientSession() as session:
        url = f"{running.base_url}/pa"
        await fake.set_webhook(webhook.url)
        user = fake.add_user(subscribed=True)
        statuses = [(await _send(session, url, user))["status"] for _ in range(limit + 2)]
        assert statuses == [0] * limit + [12, 12]
        await fake.customer_message(user, "I'm here")
        assert (await _send(session, url, user))["status"] == 0
        for _ in range(limit - 1):
            await _send(session, url, user)
        assert (await _send(session, url, user))["status"] == 12
        clock.advance(3601)  # an hour later the window is empty again
        assert (await _send(session, url, user))["status"] == 0


async def test_user_details_twice_per_12_hours_per_user(webhook: Webhook) -> None:
    clock = Clock()
    fake = FakeViber(token=TOKEN, clock=clock)
    async with serving(fake.app) as running, aiohttp.ClientSession() as session:
        url = f"{running.base_url}/pa/get_user_details"
        first, second = fake.add_user(), fake.add_user()

        async def details(user: str) -> int:
            async with session.post(url, headers=AUTH, json={"id": user}) as response:
                return (await response.json())["status"]

        assert [await details(first) for _ in range(3)] == [0, 0, 12]
        assert await details(second) == 0
        clock.advance(12 * 3600 + 1)
        assert await details(first) == 0


async def test_time_scale_shrinks_the_hour_window(webhook: Webhook) -> None:
    fake = FakeViber(token=TOKEN, messages_without_reply=1, time_scale=0.0001)  # hour = 0.36 s
    async with serving(fake.app) as running, aiohttp.ClientSession() as session:
        url = f"{running.base_url}/pa"
        await fake.set_webhook(webhook.url)
        user = fake.add_user(subscribed=True)
        assert [(await _send(session, url, user))["status"] for _ in range(2)] == [0, 12]
        await asyncio.sleep(0.4)
        assert (await _send(session, url, user))["status"] == 0
