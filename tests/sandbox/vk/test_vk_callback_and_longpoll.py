"""Callback API deliveries (confirmation, secret, retries) and the long poll's waiting rules."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from sandbox.runner import serving
from sandbox.vk import FakeVK
from tests.sandbox.vk.conftest import GROUP_ID, TOKEN


@dataclass
class Receiver:
    """A bridge stand-in: answers the confirmation code, then `ok` after `fail_first` errors."""

    code: str
    fail_first: int = 0
    bodies: list[dict] = field(default_factory=list)
    retry_headers: list[str | None] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if body["type"] == "confirmation":
            return web.Response(text=self.code)
        self.bodies.append(body)
        self.retry_headers.append(request.headers.get("X-Retry-Counter"))
        if len(self.bodies) <= self.fail_first:
            return web.Response(text="not yet", status=500)
        return web.Response(text="ok")


@pytest.fixture
async def receiver(fake_vk: FakeVK) -> AsyncIterator[Receiver]:
    receiver = Receiver(code=fake_vk.state.confirmation_code)
    app = web.Application()
    app.router.add_post("/vk", receiver.handle)
    async with serving(app) as running:
        receiver.url = f"{running.base_url}/vk"
        yield receiver


async def test_callback_server_added_over_the_api_is_confirmed_then_gets_events(
    fake_vk: FakeVK, receiver: Receiver
) -> None:
    params = {"access_token": TOKEN, "v": "5.199", "group_id": GROUP_ID}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake_vk.public_url}/method/groups.getCallbackConfirmationCode", data=params
        ) as response:
            assert (await response.json())["response"]["code"] == receiver.code
        add = {**params, "url": receiver.url, "title": "bridge", "secret_key": "s3cret"}
        async with session.post(
            f"{fake_vk.public_url}/method/groups.addCallbackServer", data=add
        ) as response:
            server_id = (await response.json())["response"]["server_id"]
        for _ in range(50):
            if fake_vk.state.callback_servers[server_id].status != "unconfigured":
                break
            await asyncio.sleep(0.01)
    assert fake_vk.state.callback_servers[server_id].status == "ok"
    await fake_vk.customer_message(5, "via callback", attachments=["doc", "sticker"])
    await fake_vk.callbacks.drain()
    [body] = receiver.bodies
    assert body["type"] == "message_new"
    assert body["secret"] == "s3cret"
    assert body["group_id"] == GROUP_ID
    assert body["v"] == "5.199"
    assert body["object"]["message"]["text"] == "via callback"
    kinds = [a["type"] for a in body["object"]["message"]["attachments"]]
    assert kinds == ["doc", "sticker"]


async def test_a_server_answering_the_wrong_code_is_not_confirmed(fake_vk: FakeVK) -> None:
    receiver = Receiver(code="wrong")
    app = web.Application()
    app.router.add_post("/vk", receiver.handle)
    async with serving(app) as running:
        assert await fake_vk.set_callback(f"{running.base_url}/vk") is False
        await fake_vk.customer_message(5, "nobody hears this")
        await fake_vk.callbacks.drain()
    assert receiver.bodies == []


async def test_failed_deliveries_are_retried_with_the_same_event_id(
    fake_vk: FakeVK, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    assert await fake_vk.set_callback(receiver.url, secret="x")
    await fake_vk.customer_allows(8)
    await fake_vk.callbacks.drain()
    assert len(receiver.bodies) == 3
    assert len({b["event_id"] for b in receiver.bodies}) == 1
    assert receiver.retry_headers == [None, "1", "2"]
    assert receiver.bodies[0]["type"] == "message_allow"
    assert fake_vk.callbacks.deliveries[-1].succeeded


async def test_long_poll_waits_and_is_woken_by_a_new_event(fake_vk: FakeVK) -> None:
    server = {"key": fake_vk.longpoll.key, "ts": fake_vk.longpoll.ts}
    url = f"{fake_vk.public_url}/_lp/{fake_vk.longpoll.server_id}"
    params = {"act": "a_check", "key": server["key"], "ts": str(server["ts"]), "wait": "25"}
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        poll = asyncio.create_task(session.get(url, params=params))
        await asyncio.sleep(0.2)
        assert not poll.done()  # really waiting
        await fake_vk.customer_denies(4)
        async with await poll as response:
            body = await response.json()
    assert time.monotonic() - started < 1.0  # woken, not timed out (25 s × 0.05 = 1.25 s)
    assert [u["type"] for u in body["updates"]] == ["message_deny"]
    assert body["ts"] == str(server["ts"] + 1)


async def test_long_poll_times_out_empty_after_the_scaled_wait(fake_vk: FakeVK) -> None:
    url = f"{fake_vk.public_url}/_lp/{fake_vk.longpoll.server_id}"
    params = {
        "act": "a_check",
        "key": fake_vk.longpoll.key,
        "ts": fake_vk.longpoll.ts,
        "wait": "4",
    }
    started = time.monotonic()
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as response:
        body = await response.json()
    assert body["updates"] == []
    assert 0.15 <= time.monotonic() - started < 1.0  # 4 s × time_scale 0.05


@pytest.mark.parametrize(
    ("forced", "expected_keys"), [(1, {"failed", "ts"}), (2, {"failed"}), (3, {"failed"})]
)
async def test_long_poll_failures_can_be_injected(
    fake_vk: FakeVK, forced: int, expected_keys: set[str]
) -> None:
    old_key = fake_vk.longpoll.key
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake_vk.public_url}/_control/longpoll_failure", json={"failed": forced}
        ) as response:
            assert response.status == 200
        url = f"{fake_vk.public_url}/_lp/{fake_vk.longpoll.server_id}"
        params = {"act": "a_check", "key": old_key, "ts": fake_vk.longpoll.ts, "wait": "0"}
        async with session.get(url, params=params) as response:
            body = await response.json()
    assert body["failed"] == forced
    assert set(body) == expected_keys
    assert (fake_vk.longpoll.key == old_key) == (forced == 1)


async def test_long_poll_with_a_stale_key_says_failed_2(fake_vk: FakeVK) -> None:
    url = f"{fake_vk.public_url}/_lp/{fake_vk.longpoll.server_id}"
    params = {"act": "a_check", "key": "stale", "ts": "1", "wait": "0"}
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as response:
        assert await response.json() == {"failed": 2}


async def test_control_api_drives_a_customer_and_reads_what_they_received(
    fake_vk: FakeVK,
) -> None:
    base = fake_vk.public_url
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/_control/users", json={"user_id": 12, "first_name": "Anna", "last_name": "K"}
        ) as response:
            assert response.status == 200
        async with session.post(
            f"{base}/_control/messages",
            json={"user_id": 12, "text": "hi", "attachments": ["wall"]},
        ) as response:
            message = await response.json()
        assert message["attachments"][0]["type"] == "wall"
        send = {
            "access_token": TOKEN,
            "v": "5.199",
            "peer_id": 12,
            "random_id": 5,
            "message": "yo",
        }
        async with session.post(f"{base}/method/messages.send", data=send) as response:
            assert "response" in await response.json()
        async with session.get(f"{base}/_control/received/12") as response:
            assert [m["text"] for m in await response.json()] == ["yo"]
        async with session.get(f"{base}/_control/calls?name=messages.send") as response:
            [call] = await response.json()
        assert call["params"]["message"] == "yo" and "access_token" not in call["params"]
