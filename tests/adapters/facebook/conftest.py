"""Fixtures for the Messenger adapter tests: the fake Page, the adapter's webhook, a sink."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.facebook.adapter import FacebookAdapter
from adapters.facebook.settings import FacebookSettings
from sandbox.facebook.fake import FakeFacebook
from sandbox.runner import serving
from tests.adapters.recording_sink import RecordingSink

PAGE_TOKEN = "fb-page-token-tests"
APP_SECRET = "fb-app-secret-tests"
VERIFY_TOKEN = "fb-verify-token-tests"


@pytest.fixture
async def fake_fb() -> AsyncIterator[FakeFacebook]:
    fake = FakeFacebook(page_token=PAGE_TOKEN, app_secret=APP_SECRET, time_scale=0.01)
    async with serving(fake.app) as running:
        fake.public_url = running.base_url
        yield fake


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def fb(
    fake_fb: FakeFacebook, sink: RecordingSink
) -> AsyncIterator[tuple[FacebookAdapter, str]]:
    """The adapter serving /webhooks/facebook, verified and subscribed by the fake Page."""
    settings = FacebookSettings(
        group="support",
        page_token=PAGE_TOKEN,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        graph_url=f"{fake_fb.public_url}/v21.0",
    )
    adapter = FacebookAdapter(settings, sink)
    await adapter.start()
    app = web.Application()
    app.add_routes(adapter.routes())
    async with serving(app) as running:
        url = f"{running.base_url}/webhooks/facebook"
        assert await fake_fb.verify_webhook(url, VERIFY_TOKEN)
        yield adapter, url
    await adapter.stop()
