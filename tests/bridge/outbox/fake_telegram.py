"""A FakeTelegram served over real HTTP whose clock runs SPEED times faster than real time.

The fake's group limit is a sliding 60-second window of its own clock; speeding the clock up
compresses that window (SPEED=50: 20 posts per 1.2 real seconds) so a burst test takes seconds,
while the worker paces with `PacingPolicy(time_scale=SPEED)`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from sandbox.runner import serving
from sandbox.telegram import FakeTelegram

TOKEN = "123456:OUTBOX-test"
SPEED = 50.0


@dataclass
class ServedTelegram:
    fake: FakeTelegram
    api_url: str
    group: int
    groups: list[int]


@asynccontextmanager
async def served_telegram(groups: int = 1, speed: float = SPEED) -> AsyncIterator[ServedTelegram]:
    start = time.monotonic()
    fake = FakeTelegram(clock=lambda: 1000.0 + (time.monotonic() - start) * speed)
    fake.add_bot(TOKEN, username="support_bot")
    ids = [fake.create_forum(f"Operators {n}") for n in range(groups)]
    parent = web.Application()
    parent.add_subapp("/telegram", fake.app)
    async with serving(parent) as running:
        yield ServedTelegram(fake, running.base_url + "/telegram", ids[0], ids)


def sent_texts(fake: FakeTelegram) -> list[str]:
    """Texts of the successful sendMessage calls, in the order the fake accepted them."""
    return [c.params["text"] for c in fake.calls("sendMessage", status=200)]
