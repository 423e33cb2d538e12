"""A per-key token bucket for operators' commands whose answers cost the group's posting budget.

The group may receive 20 posts a minute in all; an operator repeating /history (or a script
behind an operator's account) must not spend it for the customers. A refused command is told
so once per wait (`Refusal.tell`), not once per attempt: telling is a post too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refusal:
    """Over the rate: wait `seconds`; `tell` only on the first refusal of this wait."""

    seconds: int
    tell: bool


class Throttle:
    """`burst` at once, refilled at `per_minute`, per key (an operator id)."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_minute / 60
        self.burst = burst
        self._clock = clock
        self._buckets: dict[object, tuple[float, float]] = {}
        self._told: dict[object, float] = {}

    def take(self, key: object) -> Refusal | None:
        """Take one for `key`: None when allowed, else how long to wait."""
        now = self._clock()
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
        if len(self._buckets) > 10_000:
            self._forget_idle(now)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._told.pop(key, None)
            return None
        self._buckets[key] = (tokens, now)
        wait = (1 - tokens) / self.per_second
        until = self._told.get(key)
        tell = until is None or now >= until
        if tell:
            self._told[key] = now + wait
        return Refusal(max(1, math.ceil(wait)), tell)

    def _forget_idle(self, now: float) -> None:
        full_after = self.burst / self.per_second
        for key, (_, then) in list(self._buckets.items()):
            if now - then > full_after:
                del self._buckets[key]
                self._told.pop(key, None)
