"""Open WebSockets are capped (issue 14): per visitor, per client address and in all.

Tokens are free to mint and a socket holds a file descriptor while it stays open, so before
the caps one address could open sockets until the process ran out of descriptors and every
webhook with it. Over real HTTP: the widget harness for what a visitor sees (close codes,
statuses, pushes still reaching the tabs within the cap), the whole service (`demo`) for the
two floods of the abuse table, with a webhook probed all along.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from adapters.site.adapter import SiteAdapter
from adapters.site.sockets import (
    AUTH_TIMEOUT,
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    MAX_PER_ADDRESS,
    MAX_PER_VISITOR,
    SocketCaps,
)
from app.demo import DemoRunner
from tests.adapters.site.harness import WIDGET, Bridge
from tests.adapters.site.test_widget_api import GOOD, new_token, say
from tests.security.abuse import Ledger, WebhookProbe

pytestmark = pytest.mark.timeout(120)

WS = f"/widget/{WIDGET}/ws"


def site_of(bridge: Bridge) -> SiteAdapter:
    (adapter,) = [a for a in bridge.site.adapters if a.widget_id == WIDGET]
    return adapter


async def authenticated(ws: Any, token: str) -> list[dict[str, Any]]:
    """Send `auth`; the answers up to "ready" (the auth answer, history), or raise on close."""
    await ws.send_json({"type": "auth", "token": token})
    got = []
    while True:
        message = await ws.receive(timeout=5)
        if message.type != WSMsgType.TEXT:
            raise AssertionError(f"closed: {ws.close_code} {message.extra}")
        got.append(message.json())
        if got[-1]["type"] == "ready":
            return got


async def refused_after_auth(ws: Any, token: str) -> tuple[int | None, str]:
    await ws.send_json({"type": "auth", "token": token})
    message = await ws.receive(timeout=5)
    assert message.type == WSMsgType.CLOSE, message
    return ws.close_code, message.extra


async def until(predicate: Any, within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within time")


async def test_a_sixth_tab_is_closed_while_the_first_five_still_get_replies(client, bridge):
    token = await new_token(client)
    visitor = token.split(".")[0]
    await say(client, token, "is anyone there?", "anyone-there-1")
    tabs = [await client.ws_connect(f"{WS}?after=0", headers=GOOD) for _ in range(5)]
    for tab in tabs:
        answers = await authenticated(tab, token)
        assert answers[0] == {"type": "auth", "ok": True}
        assert answers[1]["message"]["text"] == "is anyone there?"

    sixth = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    code, reason = await refused_after_auth(sixth, token)
    assert code == CLOSE_TRY_LATER
    assert reason == f"too many open chat tabs (at most {MAX_PER_VISITOR}), close one"

    result = await bridge.reply(visitor, "Yes, Anna here")
    assert result["sockets"] == MAX_PER_VISITOR
    for tab in tabs:
        assert (await tab.receive_json(timeout=5))["message"]["text"] == "Yes, Anna here"

    # A script cached before the `auth` message (token in the URL) meets the cap before the
    # upgrade: 429 with Retry-After.
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(f"{WS}?token={token}&after=0", headers=GOOD)
    assert refused.value.status == 429 and int(refused.value.headers["Retry-After"]) > 0

    await tabs[0].close()
    await until(lambda: site_of(bridge).hub.count(visitor) == MAX_PER_VISITOR - 1)
    again = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    assert (await authenticated(again, token))[-1] == {"type": "ready"}
    for tab in [*tabs[1:], again]:
        await tab.close()


async def test_an_address_over_its_cap_gets_429_before_the_upgrade(client, bridge):
    tokens = [await new_token(client) for _ in range(MAX_PER_ADDRESS // MAX_PER_VISITOR)]
    sockets = []
    for token in tokens:
        for _ in range(MAX_PER_VISITOR):
            ws = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
            await authenticated(ws, token)
            sockets.append(ws)
    assert len(sockets) == MAX_PER_ADDRESS

    # Even without a token: a socket is counted from its upgrade.
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "10"
    response = await client.get(f"{WS}?after=0", headers={**GOOD, "Upgrade": "websocket"})
    assert response.status == 429
    assert (await response.json())["error"] == (
        f"too many open chat connections from this address (at most {MAX_PER_ADDRESS})"
    )

    await sockets.pop().close()
    await until(lambda: site_of(bridge).sockets.total == MAX_PER_ADDRESS - 1)
    newcomer = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    await authenticated(newcomer, await new_token(client))
    for ws in [*sockets, newcomer]:
        await ws.close()


async def test_over_the_total_cap_the_handshake_gets_429_saying_busy(client, bridge):
    adapter = site_of(bridge)
    adapter.sockets.max_total = 3  # shared by every widget of the process
    token = await new_token(client)
    sockets = [await client.ws_connect(f"{WS}?after=0", headers=GOOD) for _ in range(3)]
    for ws in sockets:
        await authenticated(ws, token)
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    assert refused.value.status == 429 and refused.value.headers["Retry-After"] == "30"
    response = await client.get(f"{WS}?after=0", headers={**GOOD, "Upgrade": "websocket"})
    assert (await response.json())["error"] == "the chat is too busy, retry later"
    other = next(a for a in bridge.site.adapters if a.widget_id != WIDGET)
    assert other.sockets is adapter.sockets
    for ws in sockets:
        await ws.close()


async def test_a_socket_that_never_authenticates_is_closed_and_frees_its_slot(client, bridge):
    assert AUTH_TIMEOUT <= 5
    adapter = site_of(bridge)
    adapter.sockets.auth_timeout = 0.5
    silent = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    assert adapter.sockets.total == 1
    message = await silent.receive(timeout=5)
    assert message.type == WSMsgType.CLOSE
    assert silent.close_code == CLOSE_POLICY and message.extra == "send auth within 0.5 s"
    await until(lambda: adapter.sockets.total == 0)

    chatty = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    await chatty.send_json({"type": "ping"})
    message = await chatty.receive(timeout=5)
    assert message.type == WSMsgType.CLOSE
    assert chatty.close_code == CLOSE_POLICY and message.extra == "the first message must be auth"


async def test_nothing_is_sent_before_auth(client, bridge):
    token = await new_token(client)
    visitor = token.split(".")[0]
    await say(client, token, "private", "private-msg-1")
    ws = await client.ws_connect(f"{WS}?after=0", headers=GOOD)
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.3)
    await bridge.reply(visitor, "not before auth")  # no socket of theirs is authenticated
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.3)
    answers = await authenticated(ws, token)
    assert [a.get("message", {}).get("text") for a in answers[1:-1]] == [
        "private",
        "not before auth",
    ]
    await ws.close()


# ---- the abuse table: floods against the whole service -------------------------------------


@pytest.fixture
def demo_changes() -> dict[str, Any]:
    return {"http": {"trusted_proxies": ["127.0.0.0/8"]}}


def demo_site(demo: DemoRunner) -> SiteAdapter:
    assert demo.service is not None
    (adapter,) = [c for c in demo.service.components if isinstance(c, SiteAdapter)]
    return adapter


class Flood:
    """Visitors' sockets against the demo, each from the address it names."""

    def __init__(self, demo: DemoRunner, session: aiohttp.ClientSession) -> None:
        self.site = demo_site(demo)
        self.base = f"{demo.base_url}{self.site.base_path}"
        self.origin = demo.base_url
        self.session = session
        self.open: list[aiohttp.ClientWebSocketResponse] = []

    def headers(self, address: str | None) -> dict[str, str]:
        forwarded = {"X-Forwarded-For": address} if address else {}
        return {"Origin": self.origin, **forwarded}

    async def token(self, address: str | None = None) -> str:
        async with self.session.post(
            f"{self.base}/visitors", headers=self.headers(address)
        ) as response:
            assert response.status == 200
            return str((await response.json())["token"])

    async def socket(self, token: str, address: str | None = None) -> int:
        """101 with the socket kept open and authenticated, else the refusing status."""
        try:
            ws = await self.session.ws_connect(
                f"{self.base.replace('http', 'ws', 1)}/ws?after=0", headers=self.headers(address)
            )
        except WSServerHandshakeError as exc:
            assert exc.headers is not None and int(exc.headers["Retry-After"]) > 0
            return exc.status
        await authenticated(ws, token)
        self.open.append(ws)
        return 101

    async def close(self) -> None:
        for ws in self.open:
            await ws.close()


async def test_socket_flood_from_one_address(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("socket flood from one address")
    async with aiohttp.ClientSession() as session, WebhookProbe(demo.base_url, row):
        flood = Flood(demo, session)
        visitors = [await flood.token() for _ in range(6)]
        statuses = []
        for number in range(MAX_PER_ADDRESS + 10):
            status = await flood.socket(visitors[number % len(visitors)])
            row.count(status, succeeded=status == 101 and number >= MAX_PER_ADDRESS)
            statuses.append(status)
        assert statuses == [101] * MAX_PER_ADDRESS + [429] * 10
        assert len(flood.open) == flood.site.sockets.total == MAX_PER_ADDRESS
        await flood.close()
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok


async def test_socket_flood_from_many_addresses(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("socket flood from many addresses")
    total = MAX_PER_ADDRESS * 2
    async with aiohttp.ClientSession() as session, WebhookProbe(demo.base_url, row):
        flood = Flood(demo, session)
        flood.site.sockets.max_total = total  # 2000 in production
        # One forwarded address first: its own cap, though every connection is the proxy's.
        first = "198.51.100.7"
        visitors = [await flood.token(first) for _ in range(5)]
        statuses = []
        for number in range(MAX_PER_ADDRESS + 5):
            status = await flood.socket(visitors[number % 5], first)
            row.count(status, succeeded=status == 101 and number >= MAX_PER_ADDRESS)
            statuses.append(status)
        assert statuses == [101] * MAX_PER_ADDRESS + [429] * 5
        # Then one socket from each of many addresses, until the total cap.
        statuses = []
        for number in range(total):
            address = f"203.0.113.{number + 1}"
            status = await flood.socket(await flood.token(address), address)
            opened = MAX_PER_ADDRESS + statuses.count(101)
            row.count(status, succeeded=status == 101 and opened >= total)
            statuses.append(status)
        assert statuses == [101] * (total - MAX_PER_ADDRESS) + [429] * MAX_PER_ADDRESS
        assert flood.site.sockets.total == total
        await flood.close()
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok


def test_the_total_cap_stays_under_half_the_open_file_limit() -> None:
    probe = "from adapters.site.sockets import SocketCaps; print(SocketCaps().max_total)"
    capped = subprocess.run(
        ["sh", "-c", f'ulimit -n 1024 && "{sys.executable}" -c "{probe}"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert capped.stdout.strip() == "512"
    assert SocketCaps(max_total=7).max_total == 7
