"""Fixtures for the fake Facebook tests: the fake Page on a free port and a webhook receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from sandbox.common import Clock
from sandbox.facebook import FakeFacebook
from sandbox.runner import serving

PAGE_TOKEN = "fb-page-token"
APP_SECRET = "fb-app-secret"
VERIFY_TOKEN = "verify-me"


@dataclass
class Webhook:
    """A bridge stand-in: the verification handshake, then records signed deliveries."""

    fail_first: int = 0
    raw: list[bytes] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.raw]

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == VERIFY_TOKEN:
            return web.Response(text=query["hub.challenge"])
        return web.Response(status=403)

    async def receive(self, request: web.Request) -> web.Response:
        self.raw.append(await request.read())
        self.signatures.append(request.headers.get("X-Hub-Signature-256", ""))
        if len(self.raw) <= self.fail_first:
            return web.Response(status=500)
        return web.Response(text="EVENT_RECEIVED")


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    app = web.Application()
    app.router.add_get("/fb", hook.verify)
    app.router.add_post("/fb", hook.receive)
    async with serving(app) as running:
        hook.url = f"{running.base_url}/fb"
        yield hook


@pytest.fixture
async def fake_fb(webhook: Webhook) -> AsyncIterator[FakeFacebook]:
    fake = FakeFacebook(
        page_token=PAGE_TOKEN, app_secret=APP_SECRET, time_scale=0.01, clock=Clock()
    )
    async with serving(fake.app) as running:
        fake.public_url = running.base_url
        assert await fake.verify_webhook(webhook.url, VERIFY_TOKEN)
        yield fake
