"""Fixtures for the fake Viber tests: the fake on a free port and a webhook receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from sandbox.runner import serving
from sandbox.viber import FakeViber

TOKEN = "viber-token"


@dataclass
class Webhook:
    """A bridge stand-in: records raw bodies and signatures; fails the first `fail_first`."""

    fail_first: int = 0
    answer: dict[str, Any] | None = None
    raw: list[bytes] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.raw]

    async def handle(self, request: web.Request) -> web.Response:
        self.raw.append(await request.read())
        self.signatures.append(request.headers.get("X-Viber-Content-Signature", ""))
        if len(self.raw) <= self.fail_first:
            return web.Response(status=503)
        return web.json_response(self.answer or {})


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/viber", hook.handle)
    async with serving(app) as running:
        hook.url = f"{running.base_url}/viber"
        yield hook


@pytest.fixture
async def fake_viber() -> AsyncIterator[FakeViber]:
    fake = FakeViber(token=TOKEN, time_scale=0.01)
    async with serving(fake.app) as running:
        fake.public_url = f"{running.base_url}/pa"
        yield fake
