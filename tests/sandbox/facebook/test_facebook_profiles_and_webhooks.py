"""User profiles, the verification handshake, signed and retried deliveries, rate limit 613."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import aiohttp
import pytest
from aiohttp import web

from sandbox.facebook import FakeFacebook
from sandbox.runner import serving
from tests.sandbox.facebook.conftest import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN, Webhook


async def _get(url: str, **params: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as response:
        return response.status, await response.json()


async def test_profile_returns_the_requested_fields(fake_fb: FakeFacebook) -> None:
    psid = fake_fb.add_user(first_name="Ann", last_name="Lee")
    status, body = await _get(
        f"{fake_fb.public_url}/v21.0/{psid}",
        fields="first_name,last_name,profile_pic",
        access_token=PAGE_TOKEN,
    )
    assert status == 200
    assert body["first_name"] == "Ann" and body["last_name"] == "Lee"
    assert body["profile_pic"].startswith(fake_fb.public_url)
    assert set(body) == {"id", "first_name", "last_name", "profile_pic"}


@pytest.mark.parametrize(
    ("profile", "code", "subcode"), [("none", 100, 2018218), ("forbidden", 200, None)]
)
async def test_profile_failures_are_configurable_per_person(
    fake_fb: FakeFacebook, profile: str, code: int, subcode: int | None
) -> None:
    psid = fake_fb.add_user(profile=profile)
    status, body = await _get(
        f"{fake_fb.public_url}/v21.0/{psid}", fields="first_name", access_token=PAGE_TOKEN
    )
    assert status == 400
    assert body["error"]["code"] == code
    assert body["error"].get("error_subcode") == subcode


async def test_profile_rejects_unknown_fields_and_bad_tokens(fake_fb: FakeFacebook) -> None:
    psid = fake_fb.add_user()
    _, body = await _get(
        f"{fake_fb.public_url}/v21.0/{psid}", fields="email", access_token=PAGE_TOKEN
    )
    assert "nonexisting field (email)" in body["error"]["message"]
    _, body = await _get(f"{fake_fb.public_url}/v21.0/{psid}", access_token="nope")
    assert body["error"]["code"] == 190


async def test_deliveries_are_signed_over_the_raw_escaped_body(
    fake_fb: FakeFacebook, webhook: Webhook
) -> None:
    psid = fake_fb.add_user()
    await fake_fb.customer_message(
        psid, "Grüße", attachments=[{"type": "image", "url": "https://x/p.jpg"}]
    )
    raw, header = webhook.raw[-1], webhook.signatures[-1]
    expected = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    assert b"\\u00fc" in raw  # escaped unicode, as Meta sends it
    body = json.loads(raw)
    assert body["object"] == "page"
    [entry] = body["entry"]
    assert entry["id"] == fake_fb.page_id
    [event] = entry["messaging"]
    assert event["sender"]["id"] == psid and event["recipient"]["id"] == fake_fb.page_id
    assert event["message"]["text"] == "Grüße"
    assert event["message"]["attachments"][0] == {
        "type": "image",
        "payload": {"url": "https://x/p.jpg"},
    }


async def test_postback_delivery_and_read_events(fake_fb: FakeFacebook, webhook: Webhook) -> None:
    psid = fake_fb.add_user()
    await fake_fb.customer_postback(psid, "Get Started", "GET_STARTED")
    await fake_fb.customer_receipt(psid, "delivery")
    await fake_fb.customer_receipt(psid, "read")
    events = [body["entry"][0]["messaging"][0] for body in webhook.bodies]
    assert events[0]["postback"]["payload"] == "GET_STARTED"
    assert "watermark" in events[1]["delivery"] and "mids" in events[1]["delivery"]
    assert "watermark" in events[2]["read"]


async def test_failed_deliveries_are_retried_until_200(
    fake_fb: FakeFacebook, webhook: Webhook
) -> None:
    webhook.fail_first = 2
    psid = fake_fb.add_user()
    delivery = await fake_fb.customer_message(psid, "retry me")
    assert [a.status for a in delivery.attempts] == [500, 500, 200]
    assert len(set(webhook.raw)) == 1


async def test_verification_fails_with_a_wrong_verify_token(webhook: Webhook) -> None:
    fake = FakeFacebook()
    async with serving(fake.app):
        assert not await fake.verify_webhook(webhook.url, "not-the-token")
        assert fake.webhook_url == ""
        with pytest.raises(RuntimeError, match="no webhook"):
            await fake.customer_message(fake.add_user(), "lost")
        assert await fake.verify_webhook(webhook.url, VERIFY_TOKEN)


@pytest.mark.parametrize("per_second", [4, 10])
async def test_send_calls_beyond_the_rate_get_613(webhook: Webhook, per_second: int) -> None:
    fake = FakeFacebook(page_token=PAGE_TOKEN, send_calls_per_second=per_second)
    async with serving(fake.app) as running, aiohttp.ClientSession() as session:
        await fake.verify_webhook(webhook.url, VERIFY_TOKEN)
        psid = fake.add_user()
        await fake.customer_message(psid, "hi")
        body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "x"}}
        url = f"{running.base_url}/v21.0/me/messages"

        async def one() -> int | None:
            async with session.post(url, params={"access_token": PAGE_TOKEN}, json=body) as r:
                answer = await r.json()
                return answer["error"]["code"] if "error" in answer else None

        codes = await asyncio.gather(*(one() for _ in range(per_second + 3)))
    assert codes.count(None) == per_second
    assert codes.count(613) == 3


async def test_mounted_under_facebook_with_a_graph_url(webhook: Webhook) -> None:
    fake = FakeFacebook(page_token=PAGE_TOKEN)
    root = web.Application()
    root.add_subapp("/facebook", fake.app)
    async with serving(root) as running, aiohttp.ClientSession() as session:
        graph_url = f"{running.base_url}/facebook/v21.0"
        async with session.post(
            f"{running.base_url}/facebook/_control/webhook",
            json={"url": webhook.url, "verify_token": VERIFY_TOKEN},
        ) as response:
            assert (await response.json())["verified"] is True
        async with session.post(
            f"{running.base_url}/facebook/_control/users", json={"psid": "42", "first_name": "Bo"}
        ) as response:
            assert (await response.json())["psid"] == "42"
        async with session.post(
            f"{running.base_url}/facebook/_control/messages", json={"psid": "42", "text": "hey"}
        ) as response:
            assert (await response.json())["succeeded"] is True
        async with session.get(
            f"{graph_url}/42",
            params={"fields": "first_name,profile_pic", "access_token": PAGE_TOKEN},
        ) as response:
            profile = await response.json()
        assert profile["first_name"] == "Bo"
        assert profile["profile_pic"].startswith(f"{running.base_url}/facebook/_control/avatar/")
        async with session.get(profile["profile_pic"]) as response:
            assert response.content_type == "image/png"
        async with session.post(
            f"{graph_url}/me/messages",
            params={"access_token": PAGE_TOKEN},
            json={
                "recipient": {"id": "42"},
                "messaging_type": "RESPONSE",
                "message": {"text": "ok"},
            },
        ) as response:
            assert response.status == 200
        async with session.get(f"{running.base_url}/facebook/_control/received/42") as response:
            assert [m["message"]["text"] for m in await response.json()] == ["ok"]
