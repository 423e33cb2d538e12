"""Visitors seen with an open conversation a moment ago, so their next messages skip the check.

The widget asks the database, before storing a visitor's message, whether it goes into an open
conversation (then the widget's cap on new conversations does not apply, limits.py). A visitor
writes in bursts, so the answer is kept for `TTL` seconds after each stored message or positive
check. Only "open" is remembered, never "not open": a visitor who would start a new
conversation is always asked about and counted. The price of remembering: when an operator
closes a conversation, its visitor's next message within `TTL` starts the next conversation
without taking one of the cap's tokens (at most one per closed conversation; the cap is there
against scripts minting visitors, who never have an open conversation to remember).
Kept in memory per process and per widget, bounded by `MAX_VISITORS`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

TTL = 10.0  # seconds
MAX_VISITORS = 50_000


class OpenVisitors:
    """Visitor id → until when they are taken to have an open conversation."""

    def __init__(
        self,
        ttl: float = TTL,
        max_visitors: int = MAX_VISITORS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_visitors = max_visitors
        self._clock = clock
        self._until: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, visitor: str) -> bool:
        until = self._until.get(visitor)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[visitor]
            return False
        return True

    def remember(self, visitor: str) -> None:
        """The visitor has an open conversation now (a positive check, or a stored message)."""
        self._until[visitor] = self._clock() + self.ttl
        self._until.move_to_end(visitor)
        while len(self._until) > self.max_visitors:
            self._until.popitem(last=False)

    def forget(self, visitor: str) -> None:
        self._until.pop(visitor, None)
