"""Telegram's published sending limits (core.telegram.org/bots/faq), enforced with 429 +
retry_after.

- per chat: about 1 message a second, short bursts tolerated -> a token bucket
  (`per_chat_burst` tokens, refilled at `per_chat_per_second`);
- per group or supergroup: 20 posts a minute -> a sliding 60-second window. Every call that
  changes what the group shows counts: sends (incl. copies, forwards, each album item),
  edits, deletions, pins/unpins, and forum topic create/edit/close/reopen/delete. Chat actions,
  reactions, callback answers and reads do not count;
- whole bot: about 30 a second -> a token bucket of one second's worth.

`time_scale` K multiplies every rate by K (K=10: 10 per chat per second, 20 group posts in any
6 s, 300 per second overall), so a benchmark can compress time. `retry_after` is whole
seconds, rounded up, at least 1, as Telegram sends it.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from sandbox.telegram.clock import Clock


@dataclass(frozen=True, slots=True)
class TelegramLimits:
    per_chat_per_second: float = 1.0
    per_group_per_minute: int = 20
    global_per_second: float = 30.0
    time_scale: float = 1.0
    per_chat_burst: int = 3

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if min(self.per_chat_per_second, self.per_group_per_minute, self.global_per_second) <= 0:
            raise ValueError("limits must be positive")
        if self.per_chat_burst < 1:
            raise ValueError("per_chat_burst must be at least 1")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(slots=True)
class RateCounters:
    """How many 429s the fake has sent, by the limit that was hit."""

    chat: int = 0
    group: int = 0
    global_: int = 0
    forced: int = 0

    @property
    def total(self) -> int:
        return self.chat + self.group + self.global_ + self.forced


@dataclass(slots=True)
class RateLimiter:
    """Per-bot limiter. `check` answers None (allowed, counted) or the retry_after to send."""

    limits: TelegramLimits
    clock: Clock
    counters: RateCounters = field(default_factory=RateCounters)
    _chat_buckets: dict[tuple[int, int], _Bucket] = field(default_factory=dict)
    _global_buckets: dict[int, _Bucket] = field(default_factory=dict)
    _group_windows: dict[tuple[int, int], deque[float]] = field(
        default_factory=lambda: defaultdict(deque)
    )

    def check(self, bot_id: int, chat_id: int, *, is_group: bool) -> int | None:
        now = self.clock()
        scale = self.limits.time_scale
        chat_rate = self.limits.per_chat_per_second * scale
        chat_bucket = self._refill(
            self._chat_buckets, (bot_id, chat_id), now, chat_rate, self.limits.per_chat_burst
        )
        global_rate = self.limits.global_per_second * scale
        global_bucket = self._refill(
            self._global_buckets, bot_id, now, global_rate, max(1.0, global_rate)
        )
        window = self._group_windows[(bot_id, chat_id)]
        # A compressed minute: 20 posts in any 60/K seconds (not 20·K in 60 s, which would let
        # a scaled run post four windows' worth in one burst that no real group takes).
        group_capacity = max(1, round(self.limits.per_group_per_minute))
        group_window = 60.0 / scale
        while window and window[0] <= now - group_window:
            window.popleft()

        if global_bucket.tokens < 1:
            self.counters.global_ += 1
            return _whole_seconds((1 - global_bucket.tokens) / global_rate)
        if chat_bucket.tokens < 1:
            self.counters.chat += 1
            return _whole_seconds((1 - chat_bucket.tokens) / chat_rate)
        if is_group and len(window) >= group_capacity:
            self.counters.group += 1
            return _whole_seconds(window[0] + group_window - now)
        global_bucket.tokens -= 1
        chat_bucket.tokens -= 1
        if is_group:
            window.append(now)
        return None

    @staticmethod
    def _refill(buckets: dict, key: object, now: float, rate: float, capacity: float) -> _Bucket:
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = _Bucket(tokens=capacity, updated=now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        return bucket


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))
