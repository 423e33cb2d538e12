"""Viber's pacing: 1/s per user, 10/s per bot, and `limits.per_user_per_hour` to one user."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.viber import look, pacing
from adapters.viber.settings import ViberSettings
from bridge.outbox.pacing import BucketState, reserve
from bridge.outbox.policy import PacingPolicy, PlatformPacing

SECTION: dict[str, Any] = {"group": "support", "token": "t-123", "name": "Shop"}


def _policy(limits: dict[str, Any] | None = None) -> PacingPolicy:
    section = ViberSettings.model_validate({**SECTION, "limits": limits or {}})
    entry = PlatformPacing(pacing.buckets(section), look.MAX_TEXT)
    return PacingPolicy(platforms={"viber": entry})


def test_a_user_gets_one_a_second_and_the_bot_ten() -> None:
    user, hour, bot = _policy().buckets_for("viber", "user-1")
    assert (user.key, user.interval) == ("viber|user-1", pytest.approx(1.05))
    assert (bot.key, bot.interval) == ("viber|*", pytest.approx(1.05 / 10))
    assert (hour.key, hour.window) == ("viber|user-1|hour", 100)
    assert _policy().text_limit("viber") == 7000


def test_per_user_per_hour_reaches_the_buckets() -> None:
    buckets = _policy({"per_user_per_hour": 3}).buckets_for("viber", "user-1")
    _, hour, _ = buckets
    assert hour.window == 3 and hour.period == pytest.approx(3600 * 1.05)
    states = {bucket.key: BucketState() for bucket in buckets}
    slots = [reserve(states, buckets, now=0.0) for _ in range(4)]
    assert slots[:3] == pytest.approx([0.0, 1.05, 2.1])
    assert slots[3] == pytest.approx(3600 * 1.05)  # the fourth waits for the hour to pass
