"""VK's pacing: `limits.requests_per_second` per community token."""

from __future__ import annotations

import pytest

from adapters.vk import look, pacing
from adapters.vk.settings import VkSettings
from bridge.outbox.policy import PacingPolicy, PlatformPacing


def test_requests_per_second_reaches_the_token_bucket() -> None:
    section = VkSettings.model_validate(
        {
            "group": "support",
            "token": "vk-token",
            "group_id": 5,
            "limits": {"requests_per_second": 4},
        }
    )
    policy = PacingPolicy(platforms={"vk": PlatformPacing(pacing.buckets(section), look.MAX_TEXT)})
    (bucket,) = policy.buckets_for("vk", "2000000001")
    assert (bucket.key, bucket.interval) == ("vk|*", pytest.approx(1.05 / 4))
    assert policy.buckets_for("vk:other", "5")[0].key == "vk:other|*"
    assert policy.text_limit("vk") == 9000
