"""Fixtures for the config tests: a minimal valid config and the example file's variables."""

from __future__ import annotations

import copy
from typing import Any

import pytest

EXAMPLE_ENV = {
    "TELEGRAM_TOKEN": "987654321:ZZtestTokenForTheExampleConfig_0123",
    "VK_TOKEN": "vk1.a.test-token",
    "VIBER_TOKEN": "1111222233334444-5555666677778888-9999aaaabbbbcccc",
    "FB_PAGE_TOKEN": "EAAtestpagetoken",
    "FB_APP_SECRET": "00112233445566778899aabbccddeeff",
    "FB_VERIFY_TOKEN": "verify-me",
}

MINIMAL: dict[str, Any] = {
    "telegram": {"token": "123456:real-token"},
    "groups": {"support": {"chat_id": -1001000000001}},
    "channels": {"telegram": {"group": "support"}},
}


@pytest.fixture
def example_env() -> dict[str, str]:
    """Values for every ${VAR} that config/example.yaml references."""
    return dict(EXAMPLE_ENV)


@pytest.fixture
def minimal() -> dict[str, Any]:
    """A fresh copy of the smallest valid config: one group, the Telegram channel."""
    return copy.deepcopy(MINIMAL)
