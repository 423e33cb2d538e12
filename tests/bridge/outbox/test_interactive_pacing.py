"""Interactive calls on a group's window (issue 16 §2): ordinary traffic leaves a reserve,
and an Accept's calls take the earliest moment the window and the chat's pace allow."""

from __future__ import annotations

import random

import pytest

from bridge.outbox.pacing import BucketState, reserve
from tests.bridge.outbox.helpers import telegram_policy

PERIOD = 60.0 * 1.05  # the group's window with headroom


def _group() -> tuple:
    bucket, bot = telegram_policy().buckets_for("telegram", "-1")
    return bucket, bot


def _within(slots: list[float], start: float) -> int:
    return sum(1 for s in slots if start <= s < start + PERIOD)


def _max_in_any_window(slots: list[float]) -> int:
    return max(_within(slots, s) for s in slots)


def test_ordinary_calls_leave_the_reserve_free() -> None:
    bucket, bot = _group()
    states = {bucket.key: BucketState(), bot.key: BucketState()}
    slots = [reserve(states, [bucket, bot], now=0.0) for _ in range(60)]
    assert _max_in_any_window(slots) == 18


def _storm(states: dict, buckets: tuple, until: float, start: float = 0.0) -> list[float]:
    """Ordinary calls as one worker sends them in a storm: each reserves its slot as soon as
    the previous call went, so one reservation always lies ahead (the last one, past `until`)."""
    slots, now = [], start
    while now < until:
        now = reserve(states, list(buckets), now=now)
        slots.append(now)
    return slots


def test_an_interactive_call_goes_before_a_reserved_ordinary_slot() -> None:
    bucket, bot = _group()
    states = {bucket.key: BucketState(), bot.key: BucketState()}
    ordinary = _storm(states, (bucket, bot), until=200.0)
    assert _max_in_any_window(ordinary) == 18
    # An operator presses Accept at t=200 while the next ordinary slot lies ahead: the topic
    # and its history go at once, not behind it.
    ahead = min(s for s in ordinary if s > 200.0)
    assert ahead > 200.5
    topic = reserve(states, [bucket, bot], now=200.0, interactive=True)
    history = reserve(states, [bucket, bot], now=topic + 0.2, interactive=True)
    assert topic == pytest.approx(200.0, abs=0.05)
    assert history - 200.0 <= 1.5
    ordinary += _storm(states, (bucket, bot), until=400.0, start=ordinary[-1])
    assert _max_in_any_window(sorted([*ordinary, topic, history])) <= 20


def test_once_the_reserve_is_spent_an_interactive_call_takes_the_next_freed_slot() -> None:
    bucket, bot = _group()
    states = {bucket.key: BucketState(), bot.key: BucketState()}
    ordinary = _storm(states, (bucket, bot), until=200.0)
    first = [reserve(states, [bucket, bot], now=200.0, interactive=True) for _ in range(2)]
    third = reserve(states, [bucket, bot], now=201.5, interactive=True)
    assert max(first) - 200.0 <= 1.5
    # The window is full now (the ordinary call reserved ahead holds its slot too): the
    # third waits for the slots that leave it next, about two ordinary spacings, no longer.
    everything = sorted([*ordinary, *first])
    assert third - 201.5 <= 2 * PERIOD / 18 + 1.1
    assert _max_in_any_window(sorted([*everything, third])) <= 20


@pytest.mark.parametrize("seed", range(5))
def test_no_mix_ever_passes_the_window_or_the_chat_pace(seed: int) -> None:
    rng = random.Random(seed)
    bucket, bot = _group()
    states = {bucket.key: BucketState(), bot.key: BucketState()}
    slots: list[float] = []
    now = 0.0
    for _ in range(400):
        now += rng.expovariate(1.0)
        slots.append(
            reserve(
                states,
                [bucket, bot],
                now=now,
                interactive=rng.random() < 0.2,
            )
        )
    slots.sort()
    assert _max_in_any_window(slots) <= 20
    # The chat's pace as Telegram counts it (the fake: 3 at once, then one a second): our
    # bucket of 2 with one call per 1.05 s never runs it dry.
    tokens, previous = 3.0, None
    for slot in slots:
        if previous is not None:
            tokens = min(3.0, tokens + (slot - previous))
        assert tokens >= 1 - 1e-9
        tokens -= 1
        previous = slot
