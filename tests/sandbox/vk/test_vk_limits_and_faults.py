"""The fake VK's request-rate limit (error 6), injected faults, and mounting under a prefix."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import requests
import vk_api
from aiohttp import web

from adapters.vk.session import VkApiSession, set_community_pace
from sandbox.runner import serving
from sandbox.vk import FakeVK
from tests.sandbox.vk.conftest import GROUP_ID, TOKEN

PARAMS = {"access_token": TOKEN, "v": "5.199", "user_ids": "1"}


async def _burst(url: str, count: int) -> list[int | None]:
    """Fire `count` users.get calls at once; the error code of each (None = success)."""
    async with aiohttp.ClientSession() as session:

        async def one() -> int | None:
            async with session.post(f"{url}/method/users.get", data=PARAMS) as response:
                body = await response.json()
            return body["error"]["error_code"] if "error" in body else None

        return await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.parametrize("per_second", [20, 5])
async def test_calls_beyond_the_per_second_limit_get_error_6(per_second: int) -> None:
    fake = FakeVK(token=TOKEN, requests_per_second=per_second, time_scale=1.0)
    async with serving(fake.app) as running:
        codes = await _burst(running.base_url, per_second + 7)
    assert codes.count(None) == per_second
    assert codes.count(6) == 7


async def test_time_scale_shortens_the_rate_window() -> None:
    fake = FakeVK(token=TOKEN, requests_per_second=3, time_scale=0.02)  # window = 20 ms
    async with serving(fake.app) as running:
        assert (await _burst(running.base_url, 4)).count(6) == 1
        await asyncio.sleep(0.03)
        assert (await _burst(running.base_url, 3)).count(6) == 0


async def test_vk_api_paced_for_a_community_stays_under_the_limit(fake_vk: FakeVK) -> None:
    fake_vk.rate.period = 1.0  # real one-second window for this test
    client = vk_api.VkApi(
        token=TOKEN, session=VkApiSession(fake_vk.public_url), api_version="5.199"
    )
    set_community_pace(client, 20)
    api = client.get_api()

    def thirty_calls() -> float:
        started = time.monotonic()
        for _ in range(30):
            api.users.get(user_ids="1")
        return time.monotonic() - started

    elapsed = await asyncio.to_thread(thirty_calls)
    assert all(call.outcome == "ok" for call in fake_vk.calls.calls("users.get"))
    assert elapsed >= 29 / 20 * 0.9  # paced at 20/s, not vk_api's user-token 3/s
    assert elapsed < 3.0


async def test_injected_faults_answer_http_500_then_a_vk_error_then_recover(
    fake_vk: FakeVK,
) -> None:
    fake_vk.faults.add("http500", count=1, endpoint="users.get")
    fake_vk.faults.add("error", count=1, endpoint="users.get", error={"code": 10})
    url = f"{fake_vk.public_url}/method/users.get"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=PARAMS) as response:
            assert response.status == 500
        async with session.post(url, data=PARAMS) as response:
            body = await response.json()
            assert body["error"]["error_code"] == 10
            assert body["error"]["error_msg"] == "Internal server error"
        async with session.post(url, data=PARAMS) as response:
            assert "response" in await response.json()


async def test_a_hanging_call_trips_the_session_timeout(fake_vk: FakeVK) -> None:
    fake_vk.faults.add("hang", endpoint="users.get", seconds=20)  # 1 s at time_scale 0.05
    session = VkApiSession(fake_vk.public_url, timeout=0.2)
    client = vk_api.VkApi(token=TOKEN, session=session, api_version="5.199")
    with pytest.raises(requests.exceptions.Timeout):
        await asyncio.to_thread(client.method, "users.get", {"user_ids": "1"})


async def test_control_api_adds_faults_over_http(fake_vk: FakeVK) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake_vk.public_url}/_control/faults", json={"kind": "http500", "count": 2}
        ) as response:
            assert (await response.json())["pending"] == 2
        async with session.post(
            f"{fake_vk.public_url}/_control/faults", json={"kind": "explode"}
        ) as response:
            assert response.status == 400
            assert "unknown fault kind" in await response.text()


async def test_urls_handed_out_include_the_mount_prefix() -> None:
    fake = FakeVK(group_id=GROUP_ID, token=TOKEN, time_scale=0.05)
    root = web.Application()
    root.add_subapp("/vk", fake.app)
    async with serving(root) as running:
        client = vk_api.VkApi(
            token=TOKEN, session=VkApiSession(f"{running.base_url}/vk"), api_version="5.199"
        )
        server = await asyncio.to_thread(
            client.method, "groups.getLongPollServer", {"group_id": GROUP_ID}
        )
        upload = await asyncio.to_thread(client.method, "photos.getMessagesUploadServer", {})
        await fake.customer_message(3, "hello")
        async with aiohttp.ClientSession() as session:
            params = {"act": "a_check", "key": server["key"], "ts": server["ts"], "wait": "1"}
            async with session.get(server["server"], params=params) as response:
                updates = (await response.json())["updates"]
    assert server["server"].startswith(f"{running.base_url}/vk/_lp/")
    assert upload["upload_url"].startswith(f"{running.base_url}/vk/_upload/photo/")
    assert [u["object"]["message"]["text"] for u in updates] == ["hello"]
