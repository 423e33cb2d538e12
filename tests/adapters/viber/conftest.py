"""Fixtures for the Viber adapter tests: the fake Viber, the adapter's webhook, a sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from adapters.viber.adapter import ViberAdapter
from adapters.viber.settings import ViberSettings
from sandbox.runner import serving
from sandbox.viber.fake import FakeViber
from tests.adapters.recording_sink import RecordingSink

TOKEN = "viber-token-for-tests"


@pytest.fixture
async def fake_viber() -> AsyncIterator[FakeViber]:
    fake = FakeViber(token=TOKEN, time_scale=0.01)
    async with serving(fake.app) as running:
        fake.public_url = f"{running.base_url}/pa"
        yield fake


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def make_viber(
    fake_viber: FakeViber, sink: RecordingSink
) -> AsyncIterator[Callable[..., ViberAdapter]]:
    made: list[ViberAdapter] = []

    def make(**overrides: object) -> ViberAdapter:
        values: dict[str, object] = {
            "group": "support",
            "token": TOKEN,
            "name": "Shop",
            "api_url": fake_viber.public_url,
        }
        values.update(overrides)
        adapter = ViberAdapter(ViberSettings.model_validate(values), sink)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.stop()


@pytest.fixture
async def viber_webhook(
    fake_viber: FakeViber, make_viber: Callable[..., ViberAdapter]
) -> AsyncIterator[tuple[ViberAdapter, str]]:
    """An adapter (greeting set) serving POST /webhooks/viber, registered with the fake."""
    adapter = make_viber(greeting="Hi! An operator will answer soon.")
    await adapter.start()
    app = web.Application()
    app.add_routes(adapter.routes())
    async with serving(app) as running:
        url = f"{running.base_url}/webhooks/viber"
        await adapter.set_webhook(url)
        yield adapter, url
