"""Fixtures: a FakeTelegram with one bot, served over real HTTP and mounted under /telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sandbox.runner import serving
from sandbox.telegram import FakeTelegram, ManualClock, TelegramLimits

TOKEN = "123456:TEST-token_abc"


@dataclass
class Served:
    fake: FakeTelegram
    base_url: str  # ends in /telegram
    http: aiohttp.ClientSession
    clock: ManualClock

    def url(self, method: str, token: str = TOKEN) -> str:
        return f"{self.base_url}/bot{token}/{method}"

    async def post(self, method: str, token: str = TOKEN, **kwargs: Any) -> tuple[int, dict]:
        async with self.http.post(self.url(method, token), **kwargs) as resp:
            return resp.status, await resp.json()


def mounted(fake: FakeTelegram) -> web.Application:
    parent = web.Application()
    parent.add_subapp("/telegram", fake.app)
    return parent


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limits() -> TelegramLimits:
    return TelegramLimits()


@pytest.fixture
async def served(clock: ManualClock, limits: TelegramLimits) -> AsyncIterator[Served]:
    fake = FakeTelegram(limits=limits, clock=clock)
    fake.add_bot(TOKEN, username="support_bot")
    async with serving(mounted(fake)) as running, aiohttp.ClientSession() as http:
        yield Served(fake, running.base_url + "/telegram", http, clock)
