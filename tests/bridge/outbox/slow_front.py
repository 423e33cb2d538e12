"""A fake Telegram behind a slow front, over real HTTP: calls that take longer than a lease.

`SlowFront` sits in front of the fake Bot API (an aiohttp middleware of the served app) and
holds `sendMessage` calls for `seconds` before they reach the platform — what a slow network
path, or a VK reply's download and upload before its send, looks like from the worker. A call
whose client hangs up meanwhile (the worker cancelled it) never reaches the platform: the
customer does not get it. A call that waits its time out reaches the fake and is delivered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from sandbox.runner import serving
from sandbox.telegram import FakeTelegram
from tests.bridge.outbox.fake_telegram import SPEED, TOKEN

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: What the front answers a client that is no longer there (nobody reads it).
CLIENT_GONE = 499


class SlowFront:
    """Holds the next `calls` sendMessage calls (every one when None) for `seconds` each."""

    def __init__(self, seconds: float, calls: int | None = None) -> None:
        self.seconds = seconds
        self.calls = calls
        #: sendMessage calls that arrived at the front (held or not).
        self.arrived = 0
        #: Held calls whose client hung up before they reached the platform.
        self.dropped = 0
        self.first_arrived = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.endswith("/sendMessage"):
            return await handler(request)
        self.arrived += 1
        self.first_arrived.set()
        if self.calls is None or self.calls > 0:
            if self.calls is not None:
                self.calls -= 1
            if not await self._hold(request):
                self.dropped += 1
                return web.Response(status=CLIENT_GONE)
        return await handler(request)

    async def _hold(self, request: web.Request) -> bool:
        """Wait `seconds`; False as soon as the client hangs up."""
        until = time.monotonic() + self.seconds
        while time.monotonic() < until:
            transport = request.transport
            if transport is None or transport.is_closing():
                return False
            await asyncio.sleep(0.02)
        transport = request.transport
        return transport is not None and not transport.is_closing()


@dataclass
class SlowTelegram:
    fake: FakeTelegram
    front: SlowFront
    api_url: str
    groups: list[int]


@asynccontextmanager
async def served_slow_telegram(
    front: SlowFront, groups: int = 1, speed: float = SPEED
) -> AsyncIterator[SlowTelegram]:
    """The fake Bot API at `api_url`, every sendMessage passing `front` first."""
    start = time.monotonic()
    fake = FakeTelegram(clock=lambda: 1000.0 + (time.monotonic() - start) * speed)
    fake.add_bot(TOKEN, username="support_bot")
    ids = [fake.create_forum(f"Operators {n}") for n in range(groups)]
    parent = web.Application(middlewares=[front.middleware])
    parent.add_subapp("/telegram", fake.app)
    async with serving(parent) as running:
        yield SlowTelegram(fake, front, running.base_url + "/telegram", ids)
