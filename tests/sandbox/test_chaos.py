"""Random fault injection in every fake: off by default, seeded, shaped per platform, counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from sandbox.chaos import ChaosSettings
from sandbox.runner import serving
from sandbox.server import (
    PREFIXES,
    SANDBOX_FB_PAGE_TOKEN,
    SANDBOX_TELEGRAM_TOKEN,
    SANDBOX_VIBER_TOKEN,
    SANDBOX_VK_TOKEN,
    Sandbox,
)

RATES = {"error_rate": 0.3, "timeout_rate": 0.2, "throttle_rate": 0.2}
CALLS = 60


@dataclass
class Running:
    sandbox: Sandbox
    base_url: str


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    sandbox = Sandbox(time_scale=10_000)  # no real rate limit gets in the way of the counts
    sandbox.viber.webhook_url = "http://127.0.0.1:9/unused"  # send_message needs a webhook
    psid = sandbox.facebook.add_user(psid="4242")
    sandbox.facebook.last_customer_message[psid] = sandbox.facebook.clock.now()
    sandbox.vk.add_user(501, "Ivan", "Petrov")
    async with serving(sandbox.build_app()) as app:
        yield Running(sandbox, app.base_url)


async def _call(http: aiohttp.ClientSession, platform: str, base: str, n: int) -> str:
    """One harmless API call to `platform`; the outcome as a short label."""
    root = base + PREFIXES[platform]
    try:
        if platform == "telegram":
            url = f"{root}/bot{SANDBOX_TELEGRAM_TOKEN}/getMe"
            async with http.post(url) as response:
                body = await response.json()
                if response.status == 429:
                    return f"429 retry_after={body['parameters']['retry_after']}"
                return str(response.status)
        if platform == "vk":
            params = {"access_token": SANDBOX_VK_TOKEN, "v": "5.199", "user_ids": "501"}
            async with http.post(f"{root}/method/users.get", data=params) as response:
                if response.status != 200:
                    return str(response.status)
                body = await response.json()
                if "error" in body:
                    return f"200 error_code={body['error']['error_code']}"
                return "200"
        if platform == "viber":
            message = {"receiver": "nobody", "type": "text", "text": f"hi {n}"}
            headers = {"X-Viber-Auth-Token": SANDBOX_VIBER_TOKEN}
            url = f"{root}/pa/get_account_info"
            async with http.post(url, json=message, headers=headers) as response:
                if response.status != 200:
                    return str(response.status)
                body = await response.json()
                return f"200 status={body['status']}" if body["status"] else "200"
        url = f"{root}/v21.0/me/messages?access_token={SANDBOX_FB_PAGE_TOKEN}"
        message = {
            "messaging_type": "RESPONSE",
            "recipient": {"id": "4242"},
            "message": {"text": f"hi {n}"},
        }
        async with http.post(url, json=message) as response:
            body = await response.json()
            if response.status >= 500:
                assert body["error"]["code"] == 2  # Graph's transient "unexpected error"
                return str(response.status)
            if "error" in body:
                return f"{response.status} code={body['error']['code']}"
            return str(response.status)
    except aiohttp.ServerDisconnectedError:
        return "dropped"
    except aiohttp.ClientOSError:  # a reset seen while writing or reading
        return "dropped"


THROTTLE_SHAPE = {
    "telegram": "429 retry_after=3",
    "vk": "200 error_code=6",
    "viber": "200 status=12",
    "facebook": "400 code=613",
}
OK_SHAPE = {"telegram": "200", "vk": "200", "viber": "200", "facebook": "200"}


async def _outcomes(running: Running, platform: str, calls: int = CALLS) -> list[str]:
    async with aiohttp.ClientSession() as http:
        # One at a time: the order of draws is the order of calls.
        return [await _call(http, platform, running.base_url, n) for n in range(calls)]


async def _configure(running: Running, platform: str, **settings: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.base_url}{PREFIXES[platform]}/_control/chaos", json=settings
        ) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def _counts(running: Running, platform: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{running.base_url}{PREFIXES[platform]}/_control/chaos") as response,
    ):
        return await response.json()


@pytest.mark.parametrize("platform", ["telegram", "vk", "viber", "facebook"])
async def test_no_fault_is_injected_unless_configured(running: Running, platform: str) -> None:
    outcomes = await _outcomes(running, platform, calls=30)
    assert set(outcomes) == {OK_SHAPE[platform]}
    counts = await _counts(running, platform)
    assert counts["enabled"] is False and counts["calls"] == 0


@pytest.mark.parametrize("platform", ["telegram", "vk", "viber", "facebook"])
async def test_each_fake_injects_5xx_timeouts_and_its_own_rate_error(
    running: Running, platform: str
) -> None:
    await _configure(running, platform, seed=7, retry_after=3, **RATES)
    outcomes = Counter(await _outcomes(running, platform))
    counts = await _counts(running, platform)

    injected = counts["injected"]
    assert counts["calls"] == CALLS
    assert injected["error"] > 0 and injected["timeout"] > 0 and injected["throttle"] > 0
    server_errors = sum(n for outcome, n in outcomes.items() if outcome in ("500", "502", "503"))
    assert server_errors == injected["error"]
    assert outcomes["dropped"] == injected["timeout"]
    assert outcomes[THROTTLE_SHAPE[platform]] == injected["throttle"]
    assert outcomes[OK_SHAPE[platform]] == CALLS - sum(injected.values())
    assert (
        sum(counts["by_endpoint"][name]["timeout"] for name in counts["by_endpoint"])
        == (injected["timeout"])
    )


async def test_the_same_seed_gives_the_same_faults(running: Running) -> None:
    await _configure(running, "vk", seed=99, **RATES)
    first = await _outcomes(running, "vk", calls=40)
    await _configure(running, "vk", seed=99, **RATES)  # restarts the sequence and the counts
    second = await _outcomes(running, "vk", calls=40)
    await _configure(running, "vk", seed=100, **RATES)
    other = await _outcomes(running, "vk", calls=40)
    assert first == second
    assert first != other


async def test_a_timeout_after_the_effect_sends_the_message_yet_answers_nothing(
    running: Running,
) -> None:
    facebook = running.sandbox.facebook
    await _configure(running, "facebook", seed=3, error_rate=0, throttle_rate=0, timeout_rate=1)
    outcomes = await _outcomes(running, "facebook", calls=20)
    counts = await _counts(running, "facebook")
    after = counts["timeouts_after_effect"].get("messages", 0)
    assert set(outcomes) == {"dropped"}
    assert 0 < after < 20
    assert len(facebook.received("4242")) == after  # sent, though the client never heard so


async def test_a_held_request_outlasts_the_client_timeout(running: Running) -> None:
    await _configure(
        running, "telegram", seed=1, error_rate=0, throttle_rate=0, timeout_rate=1, hold_seconds=5
    )
    timeout = aiohttp.ClientTimeout(total=0.5)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        url = f"{running.base_url}/telegram/bot{SANDBOX_TELEGRAM_TOKEN}/getMe"
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(url) as response:
                await response.read()


async def test_turning_it_off_over_http(running: Running) -> None:
    await _configure(running, "viber", seed=5, error_rate=1, timeout_rate=0, throttle_rate=0)
    assert set(await _outcomes(running, "viber", calls=5)) <= {"500", "502", "503"}
    async with (
        aiohttp.ClientSession() as http,
        http.delete(f"{running.base_url}/viber/_control/chaos") as response,
    ):
        assert (await response.json())["enabled"] is False
    assert set(await _outcomes(running, "viber", calls=5)) == {"200"}


def test_a_sandbox_seeds_each_fake_differently() -> None:
    sandbox = Sandbox(chaos=ChaosSettings(seed=40))
    seeds = {name: plan.settings.seed for name, plan in sandbox.chaos_plans().items()}
    assert seeds == {"telegram": 40, "vk": 41, "viber": 42, "facebook": 43}
    with pytest.raises(ValueError):
        ChaosSettings(error_rate=0.7, timeout_rate=0.5)
