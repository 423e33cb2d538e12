"""The config's sending rates reach the outbox's pacing, for Telegram and customer platforms
(the runtime registers the bot's pacing; the root, `app.pacing`, the customer platforms')."""

from __future__ import annotations

import pytest

from app.config import parse_config
from app.wiring import build_runtime


async def test_configured_rates_pace_the_outbox(tmp_path) -> None:
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
                "viber": {
                    "group": "support",
                    "token": "viber-token",
                    "name": "Shop",
                    "limits": {"per_user_per_hour": 7},
                },
                "facebook": {
                    "group": "support",
                    "page_token": "page-token",
                    "app_secret": "app-secret",
                    "verify_token": "verify",
                    "limits": {"send_per_second": 2, "audio_video_per_second": 3},
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
    *_, video = policy.buckets_for("facebook", "psid-1", {"attachments": [{"kind": "video"}]})
    _, viber_hour, _ = policy.buckets_for("viber", "user-1")
    texts = [policy.text_limit(p) for p in ("telegram", "vk", "viber", "facebook", "site")]
    assert group.interval == pytest.approx(headroom * 60 / 12)
    assert vk.interval == pytest.approx(headroom / 4)
    assert facebook.interval == pytest.approx(headroom / 2)
    assert video.interval == pytest.approx(headroom / 3)
    assert viber_hour.window == 7
    assert texts == [4096, 9000, 7000, 2000, 2000]
