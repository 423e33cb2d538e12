"""Requests that used to crash a route (issue 14): each is answered 4xx, never 5xx, and
nothing is stored.

- a deeply nested JSON body (the parser's uncaught `RecursionError`);
- a huge `after=` on the widget's history and WebSocket (an integer the database cannot hold);
- a secret header with bytes that are not UTF-8 (aiohttp hands them over as lone surrogates,
  which `.encode()` refuses).

Everything goes over real HTTP to the real routes; the undecodable headers are written on a
raw socket, since no HTTP client sends them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError, web
from sqlmodel import select

from adapters.common.signatures import hmac_sha256_hex
from adapters.facebook.webhook import FacebookWebhook
from adapters.viber.callback import ViberCallback
from adapters.vk.callback import VkCallback
from sandbox.runner import serving
from storage.models import DeadLetter, Message
from tests.adapters.site.harness import SHOP_ORIGIN, WIDGET, Bridge, close_bridge, open_bridge
from tests.desk.desk_harness import SECRET as TELEGRAM_SECRET
from tests.desk.desk_harness import running_desk
from tests.security.abuse import LEDGER

pytestmark = pytest.mark.timeout(90)

#: Nested far past Python's recursion limit, yet well under each route's body cap.
NESTED_SMALL = b"[" * 30_000 + b"]" * 30_000  # the widget's 64 KB cap
NESTED = b"[" * 100_000 + b"]" * 100_000  # the webhooks' 1 MB cap
NESTED_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
HUGE = str(10**30)
UNDECODABLE = b"\xff\xfe\xc3("  # not UTF-8: arrives as lone surrogates


async def raw_request(
    base_url: str, method: str, path: str, headers: dict[str, bytes], body: bytes = b""
) -> tuple[int, bytes]:
    """Send one request byte for byte; (status, body) of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = [f"{method} {path} HTTP/1.1".encode(), f"Host: {host}".encode()]
        head += [name.encode() + b": " + value for name, value in headers.items()]
        head += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


ROW = LEDGER.attack("deeply nested, huge-number and undecodable requests")


def refused(status: int, *allowed: int) -> None:
    ROW.count(status, succeeded=status < 400)
    assert 400 <= status < 500, f"answered {status}, expected a 4xx"
    if allowed:
        assert status in allowed, f"answered {status}, expected one of {allowed}"


# ---- the site widget --------------------------------------------------------------------------


@pytest.fixture
async def site(tmp_path) -> AsyncIterator[tuple[Bridge, str]]:
    bridge = await open_bridge(tmp_path, [SHOP_ORIGIN])
    try:
        async with serving(bridge.app()) as running:
            yield bridge, running.base_url
    finally:
        await close_bridge(bridge)


async def messages_stored(bridge: Bridge) -> int:
    async with bridge.sessions() as session:
        return len((await session.exec(select(Message))).all())


async def a_token(base_url: str) -> str:
    status, body = await raw_request(
        base_url, "POST", f"/widget/{WIDGET}/visitors", {"Origin": SHOP_ORIGIN.encode()}
    )
    assert status == 200, body
    return str(json.loads(body)["token"])


async def test_a_deeply_nested_widget_message_is_400_and_nothing_is_stored(site) -> None:
    bridge, base_url = site
    token = await a_token(base_url)
    for body in (NESTED_SMALL, b'{"id":' * 9_000 + b"1" + b"}" * 9_000):
        status, text = await raw_request(
            base_url,
            "POST",
            f"/widget/{WIDGET}/messages",
            {
                "Origin": SHOP_ORIGIN.encode(),
                "Authorization": f"Bearer {token}".encode(),
                "Content-Type": b"application/json",
            },
            body,
        )
        refused(status, 400)
        assert b"JSON" in text
    assert bridge.sink.inbound_events == []
    assert await messages_stored(bridge) == 0


async def test_a_huge_after_on_the_history_is_400(site) -> None:
    _, base_url = site
    token = await a_token(base_url)
    for after in (HUGE, str(2**63), "-" + HUGE):
        status, text = await raw_request(
            base_url,
            "GET",
            f"/widget/{WIDGET}/history?after={after}",
            {"Authorization": f"Bearer {token}".encode()},
        )
        refused(status, 400)
        assert b"after" in text
    status, _ = await raw_request(
        base_url,
        "GET",
        f"/widget/{WIDGET}/history?after={2**63 - 1}",
        {"Authorization": f"Bearer {token}".encode()},
    )
    assert status == 200  # the largest value a database integer holds is still fine


async def test_a_huge_after_on_the_websocket_is_refused_before_the_upgrade(
    site, aiohttp_client
) -> None:
    bridge, base_url = site
    token = await a_token(base_url)
    client = await aiohttp_client(bridge.app())
    with pytest.raises(WSServerHandshakeError) as refusal:
        await client.ws_connect(
            f"/widget/{WIDGET}/ws?token={token}&after={HUGE}", headers={"Origin": SHOP_ORIGIN}
        )
    assert refusal.value.status == 400


async def test_an_undecodable_widget_token_is_403(site) -> None:
    bridge, base_url = site
    token = await a_token(base_url)
    visitor, _, signature = token.partition(".")
    forged = visitor.encode() + b"." + signature[:-4].encode() + UNDECODABLE
    assert len(forged) - len(visitor) - 1 == len(signature)  # passes the length check
    for path, method, body in (
        (f"/widget/{WIDGET}/history", "GET", b""),
        (f"/widget/{WIDGET}/messages", "POST", b'{"id":"abcdefgh","text":"hi"}'),
    ):
        status, text = await raw_request(
            base_url,
            method,
            path,
            {"Origin": SHOP_ORIGIN.encode(), "Authorization": b"Bearer " + forged},
            body,
        )
        refused(status, 403)
        assert b"token" in text
    status, _ = await raw_request(
        base_url, "GET", f"/widget/{WIDGET}/history", {"Authorization": "Bearer тест".encode()}
    )
    refused(status, 403)
    assert bridge.sink.inbound_events == []


# ---- the Telegram webhook (the whole service) -------------------------------------------------


async def dead_letters(desk: Any) -> list[DeadLetter]:
    async with desk.service.runtime.sessions() as session:
        return list((await session.exec(select(DeadLetter))).all())


async def test_the_telegram_webhook_refuses_undecodable_secrets_and_nested_bodies(
    sqlite_url: str,
) -> None:
    async with running_desk(sqlite_url, updates="webhook") as desk:
        path = "/webhooks/telegram"
        for secret in (UNDECODABLE, TELEGRAM_SECRET.encode() + UNDECODABLE, "сек".encode()):
            status, text = await raw_request(
                desk.base_url,
                "POST",
                path,
                {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": b"application/json"},
                b'{"update_id": 1}',
            )
            refused(status, 403)
            assert text == b"forbidden"
        for body in (NESTED, NESTED_OBJECT):
            status, text = await raw_request(
                desk.base_url,
                "POST",
                path,
                {
                    "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET.encode(),
                    "Content-Type": b"application/json",
                },
                body,
            )
            refused(status, 400)
            assert text == b"bad update"
        assert await dead_letters(desk) == []
        async with desk.service.runtime.sessions() as session:
            assert (await session.exec(select(Message))).all() == []


# ---- Viber, Facebook, VK callbacks ------------------------------------------------------------


Handled = list[Any]


def recorder() -> tuple[Handled, Callable[[Any], Awaitable[None]]]:
    handled: Handled = []

    async def handle(item: Any) -> None:
        handled.append(item)

    return handled, handle


async def serve(routes: list[web.AbstractRouteDef]) -> Any:
    app = web.Application()
    app.add_routes(routes)
    return serving(app)


async def test_the_viber_callback_refuses_undecodable_signatures_and_nested_bodies() -> None:
    handled, handle = recorder()
    callback = ViberCallback("viber-token", parse=lambda data: data, handle=handle)
    async with await serve(callback.routes()) as running:
        for signature in (UNDECODABLE, "подпись".encode()):
            status, _ = await raw_request(
                running.base_url,
                "POST",
                "/webhooks/viber",
                {"X-Viber-Content-Signature": signature},
                b"{}",
            )
            refused(status, 403)
        for body in (NESTED, NESTED_OBJECT):
            signed = hmac_sha256_hex("viber-token", body).encode()
            status, _ = await raw_request(
                running.base_url,
                "POST",
                "/webhooks/viber",
                {"X-Viber-Content-Signature": signed},
                body,
            )
            refused(status, 400)
    assert handled == []


async def test_the_facebook_webhook_refuses_undecodable_signatures_and_nested_bodies() -> None:
    handled, handle = recorder()
    webhook = FacebookWebhook("app-secret", "verify-token", handle)
    async with await serve(webhook.routes()) as running:
        for signature in (b"sha256=" + UNDECODABLE, "sha256=подпись".encode()):
            status, _ = await raw_request(
                running.base_url,
                "POST",
                "/webhooks/facebook",
                {"X-Hub-Signature-256": signature},
                b"{}",
            )
            refused(status, 403)
        for body in (NESTED, NESTED_OBJECT):
            signed = b"sha256=" + hmac_sha256_hex("app-secret", body).encode()
            status, _ = await raw_request(
                running.base_url,
                "POST",
                "/webhooks/facebook",
                {"X-Hub-Signature-256": signed},
                body,
            )
            refused(status, 400)
        status, _ = await raw_request(
            running.base_url,
            "GET",
            "/webhooks/facebook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=%FF%D0",
            {},
        )
        refused(status, 403)
    assert handled == []


async def test_the_vk_callback_refuses_nested_bodies_and_undecodable_secrets() -> None:
    handled, handle = recorder()
    callback = VkCallback(42, "vk-secret", "confirm", handle)
    async with await serve(callback.routes()) as running:
        bodies = [
            NESTED,
            NESTED_OBJECT,
            b'{"type":"message_new","group_id":42,"secret":"\\udcff\\ud800"}',
            '{"type":"message_new","group_id":42,"secret":"секрет"}'.encode(),
        ]
        for body in bodies:
            status, _ = await raw_request(running.base_url, "POST", "/webhooks/vk", {}, body)
            refused(status)
    assert handled == []
