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

`OpenChecks` asks the database about the visitors not remembered: the checks that arrive while
one query runs are answered together by the next, in one session and one query. A crowd of
visitors writing at once (a campaign, a flood) then costs a query per turn instead of a session
each, and never more sessions than the pool keeps open.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

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


class OpenChecks:
    """`await checks.has_open(visitor)`: whether the visitor has an open conversation, asked
    with the others waiting at the same time (`lookup(visitors)` returns those that have one).
    A failed lookup fails each of its callers alike; the next checks try again."""

    def __init__(self, lookup: Callable[[list[str]], Awaitable[Iterable[str]]]) -> None:
        self._lookup = lookup
        self._waiting: dict[str, list[asyncio.Future[bool]]] = {}
        self._task: asyncio.Task[None] | None = None
        #: Lookups made (each one query): for tests and benchmarks.
        self.lookups = 0

    async def has_open(self, visitor: str) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(visitor, []).append(future)
        if self._task is None:
            self._task = asyncio.create_task(self._answer(), name="site-open-checks")
        return await asyncio.shield(future)

    async def _answer(self) -> None:
        try:
            while self._waiting:
                asking, self._waiting = self._waiting, {}
                self.lookups += 1
                try:
                    found = set(await self._lookup(list(asking)))
                except Exception as exc:  # each caller gets the error (the widget: a 503)
                    for futures in asking.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for visitor, futures in asking.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(visitor in found)
        finally:
            self._task = None
