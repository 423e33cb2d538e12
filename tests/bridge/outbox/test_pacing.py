"""The pacing arithmetic, the generic policy, and Telegram's buckets (botapi.pacing) in it."""

from __future__ import annotations

import itertools

import pytest

from botapi.pacing import TelegramPacing
from bridge.outbox.pacing import BucketState, dump_log, load_log, penalize, reserve
from bridge.outbox.policy import (
    DEFAULT_TEXT_LIMIT,
    Bucket,
    BucketMaker,
    Limits,
    PacedCall,
    PacingPolicy,
    PlatformPacing,
)
from tests.bridge.outbox.helpers import telegram_policy


def test_group_chat_gets_twenty_a_minute_and_bot_wide_bucket() -> None:
    policy = telegram_policy()
    own, bot = policy.buckets_for("telegram", "-100123")
    assert own.interval == pytest.approx(3.0 * 1.05)
    # After a burst of 10 the rest of the minute's budget is spread, not spent at once.
    assert (own.window, own.spread_after) == (20, 10)
    assert bot.key == "telegram|*"
    assert bot.interval == pytest.approx(1.05 / 30)


def test_private_chat_gets_one_a_second() -> None:
    own, _ = telegram_policy().buckets_for("telegram", "42")
    assert own.interval == pytest.approx(1.05)


def test_time_scale_multiplies_rates() -> None:
    own, *_ = telegram_policy(time_scale=20).buckets_for("telegram", "-1")
    assert own.interval == pytest.approx(3.0 * 1.05 / 20)
    assert telegram_policy(time_scale=20).penalty_window == pytest.approx(3.0)


def _toy(call: PacedCall, make: BucketMaker) -> tuple[Bucket, ...]:
    return (make.rate(call.destination, 2.0), make.rate("*", 50.0, burst=3))


def test_a_registered_platform_is_paced_by_its_own_buckets_and_others_are_unpaced() -> None:
    policy = PacingPolicy(platforms={"toy": PlatformPacing(_toy, max_text=300)}, time_scale=2)
    own, account = policy.buckets_for("toy", "alice")
    assert (own.key, own.interval) == ("toy|alice", pytest.approx(1.05 / 4))
    assert (account.key, account.burst) == ("toy|*", 3)
    # An account after the colon is a budget of its own; the family picks the platform.
    assert policy.buckets_for("toy:other", "5")[1].key == "toy:other|*"
    assert policy.text_limit("toy:other") == 300
    assert policy.buckets_for("site:shop", "abc") == ()
    assert policy.buckets_for("telegram", "-1") == ()  # nobody registered Telegram here
    assert policy.text_limit("site:shop") == DEFAULT_TEXT_LIMIT
    assert PacingPolicy(platforms={"site": PlatformPacing()}).buckets_for("site", "x") == ()


def test_the_platform_sees_the_payload_of_the_call() -> None:
    seen: list[PacedCall] = []

    def record(call: PacedCall, make: BucketMaker) -> tuple[Bucket, ...]:
        seen.append(call)
        return ()

    policy = PacingPolicy(platforms={"toy": PlatformPacing(record)})
    policy.buckets_for("toy", "alice", {"attachments": [{"kind": "video"}]})
    policy.buckets_for("toy", "bob")
    assert seen == [
        PacedCall("alice", {"attachments": [{"kind": "video"}]}),
        PacedCall("bob", {}),
    ]


def test_the_window_maker_applies_headroom_and_time_scale() -> None:
    make = BucketMaker("toy", headroom=1.05, time_scale=10)
    bucket = make.window("a|hour", calls=100, seconds=3600)
    assert (bucket.key, bucket.window, bucket.pace) == ("toy|a|hour", 100, 0.0)
    assert bucket.period == pytest.approx(3600 * 1.05 / 10)


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_bad_limits_are_refused_with_a_clear_error(bad: float) -> None:
    with pytest.raises(ValueError, match="group_per_minute"):
        TelegramPacing(group_per_minute=bad)
    with pytest.raises(ValueError, match="time_scale"):
        PacingPolicy(time_scale=bad)


def test_reservations_are_spaced_by_the_interval_and_lie_in_the_future() -> None:
    bucket = Bucket("g", interval=3.0)
    states = {"g": BucketState()}
    slots = [reserve(states, [bucket], now=100.0) for _ in range(4)]
    assert slots == [100.0, 103.0, 106.0, 109.0]


def test_no_window_of_sixty_seconds_holds_more_than_twenty_group_posts() -> None:
    bucket = telegram_policy().buckets_for("telegram", "-1")[0]
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


def test_group_bucket_is_a_window_of_twenty_per_minute_paced_about_one_a_second() -> None:
    own, *_ = telegram_policy(time_scale=4).buckets_for("telegram", "-100123")
    assert own.window == 20
    assert own.period == pytest.approx(60 * 1.05 / 4)
    assert own.pace == pytest.approx(1.05 / 4)
    assert own.burst == 2


def test_quiet_group_takes_a_short_burst_at_once_then_about_one_a_second() -> None:
    bucket = telegram_policy().buckets_for("telegram", "-1")[0]
    states = {bucket.key: BucketState()}
    slots = [reserve(states, [bucket], now=100.0) for _ in range(4)]
    assert slots == pytest.approx([100.0, 100.0, 101.05, 102.1])


def test_the_twentieth_ordinary_post_waits_for_the_first_to_leave_the_window() -> None:
    bucket = telegram_policy().buckets_for("telegram", "-1")[0]
    # One post of every minute is left to what an operator waits for after Accept.
    assert bucket.reserve == 1
    states = {bucket.key: BucketState()}
    slots = [reserve(states, [bucket], now=0.0) for _ in range(20)]
    assert slots[18] < slots[0] + 63.0
    assert slots[19] == pytest.approx(slots[0] + 63.0)
    # Nothing has left a period of `now` yet, so every slot stays logged; a call long after
    # keeps only the last window's worth.
    assert len(states[bucket.key].log) == 20
    for _ in range(3):
        reserve(states, [bucket], now=1000.0)
    assert len(states[bucket.key].log) == 20


def test_a_long_burst_uses_nine_tenths_of_the_ordinary_budget_and_never_more() -> None:
    bucket = telegram_policy().buckets_for("telegram", "-1")[0]
    states = {bucket.key: BucketState()}
    slots = [reserve(states, [bucket], now=0.0) for _ in range(400)]
    for i, start in enumerate(slots):
        assert sum(1 for s in slots[i:] if s < start + 60.0) <= 19
    ten_minutes = sum(1 for s in slots if s < 600.0)
    assert ten_minutes >= 0.9 * 190


def test_window_slots_never_go_back_in_time() -> None:
    window, bot = telegram_policy().buckets_for("telegram", "-1")
    states = {window.key: BucketState(), bot.key: BucketState(next_at=500.0)}
    first = reserve(states, [window, bot], now=0.0)
    # The bot bucket no longer holds anything back; the group must still not go before 500.
    states[bot.key] = BucketState()
    assert first == 500.0
    assert reserve(states, [window, bot], now=0.0) >= 500.0


def test_window_bucket_honours_retry_after_then_allows_half_as_many() -> None:
    bucket = telegram_policy().buckets_for("telegram", "-1")[0]
    state = BucketState()
    states = {bucket.key: state}
    penalize(state, bucket, now=100.0, retry_after=7, window=60.0, penalty_factor=2.0)
    slots = [reserve(states, [bucket], now=100.0, penalty_factor=2.0) for _ in range(11)]
    assert min(slots) >= 107.0
    # Ten in the window while penalised, the eleventh a whole window after the first.
    assert slots[10] >= slots[0] + 63.0


def test_window_log_round_trips_and_bad_text_is_refused() -> None:
    assert load_log(dump_log([2.5, 1.25])) == [1.25, 2.5]
    assert dump_log([]) is None and load_log(None) == []
    with pytest.raises(ValueError, match="window_log"):
        load_log("{not json")
    with pytest.raises(ValueError, match="list of numbers"):
        load_log('["soon"]')


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_chat_burst_is_refused_with_a_clear_error(bad: object) -> None:
    with pytest.raises(ValueError, match="chat_burst"):
        TelegramPacing(chat_burst=bad)
    with pytest.raises(ValueError, match="headroom"):
        Limits(headroom=0.5)


def test_after_a_burst_the_rest_of_the_minute_is_spread_and_never_runs_dry() -> None:
    window, bot = telegram_policy().buckets_for("telegram", "-1")
    states = {window.key: BucketState(), bot.key: BucketState()}
    slots = [reserve(states, [window, bot], now=0.0) for _ in range(60)]
    # A quiet group's first ten go at once, about a second apart (a group is also a chat)…
    assert slots[9] < 10.0
    # …then the other nine of the minute's ordinary budget are spread until the burst
    # leaves the window, so a storm's later posts never wait for the whole window to reopen.
    gaps = [b - a for a, b in itertools.pairwise(slots[9:19])]
    assert max(gaps) < 7.5
    assert slots[18] < 63.0
    # Never more than 20 in any minute, and the budget is still used.
    for i, start in enumerate(slots):
        assert sum(1 for s in slots[i:] if s < start + 60.0) <= 20
    assert sum(1 for s in slots if s < 180.0) >= 0.9 * 57  # the ordinary 19 a minute


def test_a_saturated_group_posts_evenly_so_its_window_frees_one_slot_at_a_time() -> None:
    """Calls bunched together leave the window together a period later; if the next calls took
    those slots at once, the bunch would repeat every period, and between bunches an Accept
    that used the reserve would find no slot freed for its next post for many seconds."""
    window, bot = telegram_policy().buckets_for("telegram", "-1")
    states = {window.key: BucketState(), bot.key: BucketState()}
    slots = [reserve(states, [window, bot], now=0.0) for _ in range(120)]
    even = window.period / (window.window - window.reserve)
    later = [slot for slot in slots if slot > window.period]
    gaps = [b - a for a, b in itertools.pairwise(later)]
    assert min(gaps) >= even - 1e-6
    assert max(gaps) <= even + 1e-6
    # The ordinary budget is still used in full: 19 in any period.
    for i, start in enumerate(slots):
        assert sum(1 for s in slots[i:] if s < start + window.period) <= 19
    assert sum(1 for s in slots if s < 4 * window.period) >= 4 * 19 - 1


def test_a_group_call_late_for_its_slot_takes_a_new_one() -> None:
    from bridge.outbox.worker import OutboxWorker

    now = 1000.0
    worker = OutboxWorker(lambda: None, {}, telegram_policy(), owner_id="w", clock=lambda: now)
    group = telegram_policy().buckets_for("telegram", "-1")
    # The window is 63 s with 3 s of headroom: up to ~0.9 s late still keeps every window.
    assert not worker._too_late(group, slot=now - 0.5)
    assert worker._too_late(group, slot=now - 2.0)
    # A private chat is paced on average (no window): lateness crowds nothing there.
    assert not worker._too_late(telegram_policy().buckets_for("telegram", "42"), slot=now - 60.0)
