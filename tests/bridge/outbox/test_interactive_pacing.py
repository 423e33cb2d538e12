"""Interactive calls on a group's window (issue 16 §2): ordinary traffic leaves a reserve,
and an Accept's calls take the earliest moment the window and the chat's pace allow."""

from __future__ import annotations

import copy
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
    assert _max_in_any_window(slots) == 19


def _storm(states: dict, buckets: tuple, until: float, start: float = 0.0) -> list[float]:
    """Ordinary calls as the worker sends them in a storm: each looks at its slot, sleeps
    until it and only then reserves it (an ordinary call never holds a window's slot ahead)."""
    slots, now = [], start
    while True:
        due = reserve(copy.deepcopy(states), list(buckets), now=now)
        if due >= until:
            return slots
        if due - now > 0.02:
            now = due  # sleep until then and look again
            continue
        slots.append(reserve(states, list(buckets), now=now))


def test_an_interactive_call_is_not_held_behind_the_storm() -> None:
    bucket, bot = _group()
    states = {bucket.key: BucketState(), bot.key: BucketState()}
    ordinary = _storm(states, (bucket, bot), until=200.0)
    assert _max_in_any_window(ordinary) == 19
    # An operator presses Accept at t=200 in the middle of the storm: the topic goes at once
    # on the reserve, the history on the next slot the window frees, before any ordinary call.
    topic = reserve(states, [bucket, bot], now=200.0, interactive=True)
    history = reserve(states, [bucket, bot], now=topic + 0.2, interactive=True)
    assert topic == pytest.approx(200.0, abs=0.05)
    # The reserve (one post a minute) took the topic; the history takes the next slot the
    # window frees, at most one ordinary spacing later.
    assert history - 200.0 <= PERIOD / 19 + 1.1
    later = _storm(states, (bucket, bot), until=400.0, start=history)
    assert min(later) > history
    ordinary += later
    assert _max_in_any_window(sorted([*ordinary, topic, history])) <= 20


def test_once_the_reserve_is_spent_an_interactive_call_takes_the_next_freed_slot() -> None:
    bucket, bot = _group()
    states = {bucket.key: BucketState(), bot.key: BucketState()}
    ordinary = _storm(states, (bucket, bot), until=200.0)
    first = [reserve(states, [bucket, bot], now=200.0, interactive=True) for _ in range(2)]
    third = reserve(states, [bucket, bot], now=201.5, interactive=True)
    assert max(first) - 200.0 <= PERIOD / 19 + 1.1
    # The window is full now (the ordinary call reserved ahead holds its slot too): the
    # third waits for the slots that leave it next, about two ordinary spacings, no longer.
    everything = sorted([*ordinary, *first])
    assert third - 201.5 <= 3 * PERIOD / 19 + 1.1
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
