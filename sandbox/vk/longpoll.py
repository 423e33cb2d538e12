"""The Bots Long Poll server of the fake VK: numbered events, `a_check` with real waiting.

Contract (dev.vk.com bots-long-poll): `?act=a_check&key=K&ts=T&wait=W` answers
`{ts, updates[]}` with the events numbered T and later, waiting up to W seconds (max 90) for the
first one; `{failed: 1, ts}` when T is out of range (continue with the new ts), `{failed: 2}`
when the key has expired (fetch a new key), `{failed: 3}` when key and ts are lost.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from typing import Any

MAX_WAIT = 90
KEPT_EVENTS = 1000


class LongPollStream:
    """Events waiting for a long-poll client; one stream per community."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self.key = secrets.token_hex(20)
        self.server_id = secrets.token_hex(4)
        self._next_ts = 1
        self._events: deque[tuple[int, dict[str, Any]]] = deque(maxlen=KEPT_EVENTS)
        self._new_event = asyncio.Event()
        self._forced_failures: deque[int] = deque()

    @property
    def ts(self) -> int:
        """The ts a new client starts from: the number the next event will get."""
        return self._next_ts

    def push(self, event: dict[str, Any]) -> None:
        self._events.append((self._next_ts, event))
        self._next_ts += 1
        self._new_event.set()
        self._new_event = asyncio.Event()

    def force_failure(self, failed: int) -> None:
        """Make the next `a_check` answer `{failed: N}` (1, 2 or 3)."""
        if failed not in (1, 2, 3):
            raise ValueError("long poll `failed` is 1, 2 or 3")
        self._forced_failures.append(failed)
        self._new_event.set()
        self._new_event = asyncio.Event()

    def new_key(self) -> str:
        self.key = secrets.token_hex(20)
        return self.key

    async def check(self, key: str, ts_raw: str, wait_raw: str) -> dict[str, Any]:
        """Answer one `a_check`, waiting for events when there are none yet."""
        failure = self._take_failure()
        if failure:
            return failure
        if key != self.key:
            return {"failed": 2}
        try:
            ts = int(ts_raw)
        except ValueError:
            return {"failed": 1, "ts": self._next_ts}
        oldest = self._events[0][0] if self._events else self._next_ts
        if ts < oldest or ts > self._next_ts:
            return {"failed": 1, "ts": self._next_ts}
        try:
            wait = min(max(int(wait_raw or 0), 0), MAX_WAIT)
        except ValueError:
            wait = 0
        if ts == self._next_ts and wait:
            waiter = self._new_event
            try:
                await asyncio.wait_for(waiter.wait(), timeout=wait * self.time_scale)
            except TimeoutError:
                pass
            failure = self._take_failure()
            if failure:
                return failure
        updates = [event for number, event in self._events if number >= ts]
        return {"ts": str(self._next_ts), "updates": updates}

    def _take_failure(self) -> dict[str, Any] | None:
        if not self._forced_failures:
            return None
        failed = self._forced_failures.popleft()
        if failed == 1:
            return {"failed": 1, "ts": self._next_ts}
        self.new_key()
        return {"failed": failed}
