"""Token buckets keyed by who asks (a visitor, an address, an operator), kept in memory.

Used where a stranger's or an operator's repeated requests must be slowed down before they
cost anything: the widget's per-visitor and per-address limits (adapters/site/limits.py) and
the desk's /history (desk/throttle.py). Each process keeps its own buckets: with several
processes behind a load balancer, the effective limit is at most their number times this.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """`burst` events at once, refilled at `per_minute`."""

    per_minute: float
    burst: int


class KeyedBuckets:
    """One token bucket per key; idle keys are forgotten once there are more than `max_keys`."""

    def __init__(
        self, rate: Rate, clock: Callable[[], float] = time.monotonic, *, max_keys: int = 50_000
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[Hashable, tuple[float, float]] = {}

    def wait_time(self, key: Hashable) -> float:
        """Take one token for `key`: 0 when allowed, else the seconds until one is free."""
        now = self._clock()
        per_second = self.rate.per_minute / 60
        tokens, then = self._buckets.get(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - then) * per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self._max_keys:
                self._forget_idle(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / per_second

    def _forget_idle(self, now: float) -> None:
        full_after = self.rate.burst / (self.rate.per_minute / 60)
        for key, (_, then) in list(self._buckets.items()):
            if now - then > full_after:
                del self._buckets[key]
