"""A CoreSink fake for adapter tests: stores what it is told in lists, can refuse to commit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bridge.events import CustomerProfile, Inbound


class CommitFailed(RuntimeError):
    """What the sink raises while `fail_next` is set: the database refused the commit."""


@dataclass
class RecordingSink:
    """Everything an adapter reported, in order; duplicates (same external_id) answer False."""

    inbound_events: list[Inbound] = field(default_factory=list)
    deliveries: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    reachability_changes: list[tuple[str, str, bool, str | None]] = field(default_factory=list)
    profiles: list[tuple[str, str, CustomerProfile]] = field(default_factory=list)
    fail_next: int = 0
    calls: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise CommitFailed("commit failed (simulated)")

    def _notify(self) -> None:
        self._arrived.set()

    async def inbound(self, event: Inbound) -> bool:
        self._maybe_fail()
        if any(
            e.channel == event.channel and e.external_id == event.external_id
            for e in self.inbound_events
        ):
            return False
        self.inbound_events.append(event)
        self._notify()
        return True

    async def delivery(
        self, channel: str, external_id: str, state: str, error: str | None = None
    ) -> None:
        self._maybe_fail()
        self.deliveries.append((channel, external_id, state, error))
        self._notify()

    async def reachability(
        self, channel: str, user: str, reachable: bool, reason: str | None = None
    ) -> None:
        self._maybe_fail()
        self.reachability_changes.append((channel, user, reachable, reason))
        self._notify()

    async def profile(self, channel: str, user: str, profile: CustomerProfile) -> None:
        self._maybe_fail()
        self.profiles.append((channel, user, profile))
        self._notify()

    @property
    def stored(self) -> int:
        """How many things were stored, of every kind."""
        return (
            len(self.inbound_events)
            + len(self.deliveries)
            + len(self.reachability_changes)
            + len(self.profiles)
        )

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        """Wait until `predicate(self)` holds (an AssertionError after `within` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting; sink holds {self!r}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass
