"""The fake Send API refuses what Meta refuses, with Graph's error envelope and codes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox.facebook import FakeFacebook
from tests.sandbox.facebook.conftest import PAGE_TOKEN


def send(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient": {"id": "{psid}"},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


HOUR = 3600
CASES: list[tuple[str, str, dict[str, Any], float, int, int | None, str]] = [
    ("missing token", "", send(), 0, 2500, None, "active access token"),
    ("bad token", "bogus", send(), 0, 190, None, "Invalid OAuth access token"),
    ("no recipient", PAGE_TOKEN, send(recipient=None), 0, 100, None, "recipient is required"),
    ("no messaging_type", PAGE_TOKEN, send(messaging_type=None), 0, 100, None, "messaging_type"),
    (
        "bad messaging_type",
        PAGE_TOKEN,
        send(messaging_type="PUSH"),
        0,
        100,
        None,
        "must be one of",
    ),
    (
        "MESSAGE_TAG without tag",
        PAGE_TOKEN,
        send(messaging_type="MESSAGE_TAG"),
        0,
        100,
        None,
        "Tag is required",
    ),
    (
        "unknown tag",
        PAGE_TOKEN,
        send(messaging_type="MESSAGE_TAG", tag="PROMO"),
        0,
        100,
        None,
        "tag",
    ),
    (
        "no message",
        PAGE_TOKEN,
        send(message=None),
        0,
        100,
        None,
        "either message or sender action",
    ),
    (
        "text over 2000",
        PAGE_TOKEN,
        send(message={"text": "x" * 2001}),
        0,
        100,
        None,
        "less than or equal to 2000",
    ),
    (
        "text and attachment together",
        PAGE_TOKEN,
        send(
            message={"text": "a", "attachment": {"type": "image", "payload": {"url": "https://x"}}}
        ),
        0,
        100,
        None,
        "Only one of text or attachment",
    ),
    (
        "attachment without url",
        PAGE_TOKEN,
        send(message={"attachment": {"type": "image", "payload": {}}}),
        0,
        100,
        None,
        "[url] is required",
    ),
    (
        "unknown recipient",
        PAGE_TOKEN,
        send(recipient={"id": "123"}),
        0,
        100,
        2018001,
        "No matching user found",
    ),
    (
        "RESPONSE after 25 hours",
        PAGE_TOKEN,
        send(),
        25 * HOUR,
        10,
        2018278,
        "outside of allowed window",
    ),
    (
        "UPDATE after 25 hours",
        PAGE_TOKEN,
        send(messaging_type="UPDATE"),
        25 * HOUR,
        10,
        2018278,
        "window",
    ),
    (
        "HUMAN_AGENT after 8 days",
        PAGE_TOKEN,
        send(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT"),
        8 * 24 * HOUR,
        10,
        2018278,
        "outside of allowed window",
    ),
]


@pytest.mark.parametrize(
    ("token", "body", "age", "code", "subcode", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_fake_send_api_rejects_like_meta(
    fake_fb: FakeFacebook,
    token: str,
    body: dict[str, Any],
    age: float,
    code: int,
    subcode: int | None,
    message: str,
) -> None:
    psid = fake_fb.add_user(first_name="Ann")
    await fake_fb.customer_message(psid, "hi")
    fake_fb.clock.advance(age)
    if body.get("recipient", {}).get("id") == "{psid}":
        body = {**body, "recipient": {"id": psid}}
    params = {"access_token": token} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_fb.public_url}/v21.0/me/messages", params=params, json=body
        ) as response,
    ):
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["code"] == code
    assert error.get("error_subcode") == subcode
    assert message in error["message"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    assert fake_fb.received(psid) == []


@pytest.mark.parametrize(
    ("age_hours", "messaging_type", "tag"),
    [(23, "RESPONSE", None), (23, "UPDATE", None), (6 * 24, "MESSAGE_TAG", "HUMAN_AGENT")],
)
async def test_messages_inside_the_window_are_sent(
    fake_fb: FakeFacebook, age_hours: int, messaging_type: str, tag: str | None
) -> None:
    psid = fake_fb.add_user()
    await fake_fb.customer_message(psid, "hi")
    fake_fb.clock.advance(age_hours * HOUR)
    body: dict[str, Any] = {
        "recipient": {"id": psid},
        "messaging_type": messaging_type,
        "message": {"attachment": {"type": "image", "payload": {"url": "https://x/a.png"}}},
    }
    if tag:
        body["tag"] = tag
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_fb.public_url}/v21.0/me/messages",
            params={"access_token": PAGE_TOKEN},
            json=body,
        ) as response,
    ):
        assert response.status == 200
        answer = await response.json()
    assert answer["recipient_id"] == psid
    assert answer["message_id"].startswith("m_")
    [sent] = fake_fb.received(psid)
    assert sent["message"]["attachment"]["payload"]["url"] == "https://x/a.png"


async def test_a_person_who_blocked_the_page_is_unavailable(fake_fb: FakeFacebook) -> None:
    psid = fake_fb.add_user()
    await fake_fb.customer_message(psid, "bye")
    fake_fb.customer_blocks(psid)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_fb.public_url}/v21.0/me/messages",
            params={"access_token": PAGE_TOKEN},
            json={
                "recipient": {"id": psid},
                "messaging_type": "RESPONSE",
                "message": {"text": "x"},
            },
        ) as response,
    ):
        error = (await response.json())["error"]
    assert error["code"] == 551


@pytest.mark.parametrize(
    ("how", "expected"),
    [("header", "header"), ("query", "url"), ("body", "body"), ("wrong header", "header")],
)
async def test_the_page_token_is_accepted_as_meta_does_and_where_it_came_is_recorded(
    fake_fb: FakeFacebook, how: str, expected: str
) -> None:
    psid = fake_fb.add_user(first_name="Ann")
    await fake_fb.customer_message(psid, "hi")
    body: dict[str, Any] = {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello"},
    }
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    if how == "header":
        headers["Authorization"] = f"Bearer {PAGE_TOKEN}"
    elif how == "wrong header":
        headers["Authorization"] = "Bearer bogus"
    elif how == "query":
        params["access_token"] = PAGE_TOKEN
    else:
        body["access_token"] = PAGE_TOKEN
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake_fb.public_url}/v21.0/me/messages", params=params, headers=headers, json=body
        ) as response,
    ):
        assert response.status == (400 if how == "wrong header" else 200)
    [arrival] = fake_fb.token_arrivals
    assert (arrival.method, arrival.via) == ("POST", expected)
    assert (PAGE_TOKEN in arrival.url) == (how == "query")
