"""Fixtures of the widget tests: a started site channel and an aiohttp test client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.site.harness import SHOP_ORIGIN, Bridge, close_bridge, open_bridge


@pytest.fixture
async def bridge(tmp_path) -> AsyncIterator[Bridge]:
    bridge = await open_bridge(tmp_path, [SHOP_ORIGIN])
    yield bridge
    await close_bridge(bridge)


@pytest.fixture
async def client(bridge: Bridge, aiohttp_client):
    return await aiohttp_client(bridge.app())
