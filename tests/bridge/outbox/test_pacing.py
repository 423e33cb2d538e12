"""The pacing arithmetic and the per-platform policy."""

from __future__ import annotations

import pytest

from bridge.outbox.pacing import BucketState, penalize, reserve
from bridge.outbox.policy import Bucket, Limits, PacingPolicy


def test_group_chat_gets_twenty_a_minute_and_bot_wide_bucket() -> None:
    policy = PacingPolicy()
    own, bot = policy.buckets_for("telegram", "-100123")
    assert own.interval == pytest.approx(3.0 * 1.05)
    assert bot.key == "telegram|*"
    assert bot.interval == pytest.approx(1.05 / 30)


def test_private_chat_gets_one_a_second() -> None:
    own, _ = PacingPolicy().buckets_for("telegram", "42")
    assert own.interval == pytest.approx(1.05)


def test_time_scale_multiplies_rates() -> None:
    own, _ = PacingPolicy(time_scale=20).buckets_for("telegram", "-1")
    assert own.interval == pytest.approx(3.0 * 1.05 / 20)
    assert PacingPolicy(time_scale=20).penalty_window == pytest.approx(3.0)


def test_vk_is_paced_per_token_and_site_is_unpaced() -> None:
    policy = PacingPolicy()
    (bucket,) = policy.buckets_for("vk", "2000000001")
    assert bucket.interval == pytest.approx(1.05 / 20)
    assert policy.buckets_for("vk:other", "5")[0].key == "vk:other|*"
    assert policy.buckets_for("site:shop", "abc") == ()


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_bad_limits_are_refused_with_a_clear_error(bad: float) -> None:
    with pytest.raises(ValueError, match="telegram_group_per_minute"):
        Limits(telegram_group_per_minute=bad)
    with pytest.raises(ValueError, match="time_scale"):
        PacingPolicy(time_scale=bad)


def test_reservations_are_spaced_by_the_interval_and_lie_in_the_future() -> None:
    bucket = Bucket("g", interval=3.0)
    states = {"g": BucketState()}
    slots = [reserve(states, [bucket], now=100.0) for _ in range(4)]
    assert slots == [100.0, 103.0, 106.0, 109.0]


def test_no_window_of_sixty_seconds_holds_more_than_twenty_group_posts() -> None:
    bucket = PacingPolicy().buckets_for("telegram", "-1")[0]
    states = {bucket.key: BucketState()}
    slots = [reserve(states, [bucket], now=0.0) for _ in range(100)]
    for i, start in enumerate(slots):
        assert sum(1 for s in slots[i:] if s < start + 60.0) <= 20


def test_slot_is_the_latest_of_all_buckets() -> None:
    slow, fast = Bucket("slow", 5.0), Bucket("fast", 1.0)
    states = {"slow": BucketState(next_at=50.0), "fast": BucketState()}
    assert reserve(states, [slow, fast], now=10.0) == 50.0
    assert states["fast"].next_at == 51.0


def test_burst_allows_that_many_at_once() -> None:
    bucket = Bucket("b", interval=1.0, burst=3)
    states = {"b": BucketState()}
    slots = [reserve(states, [bucket], now=10.0) for _ in range(4)]
    assert slots == [10.0, 10.0, 10.0, 11.0]


def test_retry_after_is_never_undercut_and_then_pace_is_slower() -> None:
    bucket = Bucket("g", interval=1.0)
    states = {"g": BucketState()}
    penalize(states["g"], bucket, now=100.0, retry_after=7, window=30.0)
    first = reserve(states, [bucket], now=100.0, penalty_factor=2.0)
    second = reserve(states, [bucket], now=100.0, penalty_factor=2.0)
    assert first >= 107.0
    assert second - first == pytest.approx(2.0)
