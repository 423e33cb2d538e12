"""The config's sending rates reach the outbox's pacing, for Telegram and customer platforms."""

from __future__ import annotations

import pytest

from app.config import parse_config
from app.wiring import build_runtime


async def test_configured_rates_pace_the_outbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = parse_config(
        {
            "language": "en",
            "database": f"sqlite:///{tmp_path / 'b.db'}",
            "http": {"public_url": "https://support.example.org"},
            "telegram": {"token": "123:abcdef", "limits": {"per_group_per_minute": 12}},
            "groups": {"support": {"chat_id": -1001}},
            "channels": {
                "vk": {
                    "group": "support",
                    "token": "vk-token-123",
                    "group_id": 5,
                    "limits": {"requests_per_second": 4},
                },
                "facebook": {
                    "group": "support",
                    "page_token": "page-token",
                    "app_secret": "app-secret",
                    "verify_token": "verify",
                    "limits": {"send_per_second": 2},
                },
            },
        }
    )
    runtime, desk = build_runtime(config)  # the runtime's one worker paces by its policy
    await desk.stop()  # closes the bot's session (never opened here)
    policy = runtime.policy
    headroom = policy.limits.headroom
    group, *_ = policy.buckets_for("telegram", "-1001")
    (vk,) = policy.buckets_for("vk", "501")
    _, facebook = policy.buckets_for("facebook", "psid-1")
    assert group.interval == pytest.approx(headroom * 60 / 12)
    assert vk.interval == pytest.approx(headroom / 4)
    assert facebook.interval == pytest.approx(headroom / 2)
