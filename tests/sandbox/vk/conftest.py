"""Fixtures for the fake VK tests: a FakeVK served on a free port, and a vk_api client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import vk_api

from adapters.vk.session import VkApiSession, set_community_pace
from sandbox.runner import serving
from sandbox.vk import FakeVK

TOKEN = "vk-group-token"
GROUP_ID = 77


@pytest.fixture
async def fake_vk() -> AsyncIterator[FakeVK]:
    fake = FakeVK(group_id=GROUP_ID, token=TOKEN, time_scale=0.05)
    async with serving(fake.app) as running:
        fake.public_url = running.base_url
        yield fake


@pytest.fixture
def vk_url(fake_vk: FakeVK) -> str:
    return fake_vk.public_url


@pytest.fixture
def vk(vk_url: str) -> vk_api.VkApi:
    """vk_api pointed at the fake through the session subclass, paced for a community."""
    client = vk_api.VkApi(
        token=TOKEN, session=VkApiSession(vk_url, timeout=10), api_version="5.199"
    )
    set_community_pace(client)
    return client
