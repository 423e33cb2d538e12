"""Clocks for the fake: the real monotonic clock, or a manual one tests advance by hand."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


def monotonic() -> float:
    """The default clock."""
    return time.monotonic()


class ManualClock:
    """A clock that only moves when told: `clock.advance(1.5)`. Call it to read the time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self.now += seconds
