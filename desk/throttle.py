"""A per-operator limit for commands whose answers cost the group's posting budget.

The group may receive 20 posts a minute in all; an operator repeating /history (or a script
behind an operator's account) must not spend it for the customers. A refused command is told
so once per wait (`Refusal.tell`), not once per attempt: telling is a post too. The buckets
are bridge/rates.py's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from bridge.rates import KeyedBuckets, Rate


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
        self._clock = clock
        self._buckets = KeyedBuckets(Rate(per_minute, burst), clock, max_keys=10_000)
        #: Until when each key's refusal has been told.
        self._told: dict[Hashable, float] = {}

    def take(self, key: Hashable) -> Refusal | None:
        """Take one for `key`: None when allowed, else how long to wait."""
        wait = self._buckets.wait_time(key)
        if wait == 0:
            self._told.pop(key, None)
            return None
        now = self._clock()
        until = self._told.get(key)
        tell = until is None or now >= until
        if tell:
            self._told[key] = now + wait
        return Refusal(max(1, math.ceil(wait)), tell)
