"""`talker-bridge sandbox --port P` serves all four fakes, each under its prefix."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import aiohttp
import pytest
import vk_api
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from adapters.vk.session import VkApiSession
from sandbox.runner import free_port
from sandbox.server import SANDBOX_TELEGRAM_TOKEN, SANDBOX_VIBER_TOKEN, SANDBOX_VK_TOKEN


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    first_line = proc.stdout.readline()
    try:
        assert f"127.0.0.1:{port}" in first_line, first_line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


async def test_aiogram_reaches_the_telegram_fake_under_its_prefix(sandbox_url: str) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(f"{sandbox_url}/telegram"))
    bot = Bot(SANDBOX_TELEGRAM_TOKEN, session=session)
    try:
        me = await bot.get_me()
    finally:
        await session.close()
    assert me.is_bot and me.username == "talker_sandbox_bot"


async def test_vk_api_reaches_the_vk_fake_under_its_prefix(sandbox_url: str) -> None:
    def call() -> list[dict]:
        vk = vk_api.VkApi(
            token=SANDBOX_VK_TOKEN, session=VkApiSession(f"{sandbox_url}/vk"), api_version="5.199"
        )
        return vk.get_api().groups.getById()

    result = await asyncio.to_thread(call)
    assert result  # the community itself, in VK's shape


async def test_viber_and_facebook_answer_in_their_own_shapes(sandbox_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{sandbox_url}/viber/pa/get_account_info",
            json={},
            headers={"X-Viber-Auth-Token": SANDBOX_VIBER_TOKEN},
        ) as response:
            viber = await response.json()
        async with http.post(
            f"{sandbox_url}/facebook/v21.0/me/messages",
            params={"access_token": "not-the-page-token"},
            json={
                "recipient": {"id": "1"},
                "messaging_type": "RESPONSE",
                "message": {"text": "hi"},
            },
        ) as response:
            facebook = await response.json()
    assert viber["status"] == 0 and viber["name"]
    assert facebook["error"]["code"] == 190
