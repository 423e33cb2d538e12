"""Fixtures for the VK adapter tests: the fake VK on a free port, the adapter, a recording sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from adapters.vk.adapter import Transaction, VkAdapter
from adapters.vk.settings import VkSettings
from sandbox.runner import RunningApp, serving
from sandbox.vk import FakeVK
from tests.adapters.recording_sink import RecordingSink

TOKEN = "vk-group-token"
GROUP_ID = 77
SECRET = "s3cret-callback"


@pytest.fixture
async def fake_vk_served() -> AsyncIterator[tuple[FakeVK, RunningApp]]:
    fake = FakeVK(group_id=GROUP_ID, token=TOKEN, time_scale=0.05)
    async with serving(fake.app) as running:
        fake.public_url = running.base_url
        yield fake, running


@pytest.fixture
def fake_vk(fake_vk_served: tuple[FakeVK, RunningApp]) -> FakeVK:
    return fake_vk_served[0]


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def make_adapter(
    fake_vk: FakeVK, sink: RecordingSink
) -> AsyncIterator[Callable[..., VkAdapter]]:
    made: list[VkAdapter] = []

    def make(*, transaction: Transaction | None = None, **overrides: object) -> VkAdapter:
        values: dict[str, object] = {
            "group": "support",
            "token": TOKEN,
            "group_id": GROUP_ID,
            "api_url": fake_vk.public_url,
        }
        values.update(overrides)
        settings = VkSettings.model_validate(values)
        adapter = VkAdapter(
            settings,
            sink,
            longpoll_wait=2,
            timeout=5,
            transaction=transaction,
        )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.stop()
