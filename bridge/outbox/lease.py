"""The leases of the rows a worker is sending: fencing tokens, heartbeats, the local deadline.

A worker leases rows for `lease_seconds` (L). Every lease gives each row a new fencing token
(storage/outbox.py), and everything the worker does with its rows afterwards checks owner and
token, so a worker that lost a lease never records an outcome over the next holder's.

While a task holds rows (waiting for its pacing slot, on the wire, recording the outcome) the
worker's one heartbeat extends them every L/3, in one short transaction for all its tasks that
only touches rows still carrying its owner and tokens. A call may therefore run longer than L:
no other worker takes its rows while the heartbeat works.

The bound. Let t be the start of the last lease or heartbeat statement that succeeded for a
task's rows (the worker's monotonic clock; the rows' `lease_until` is t + L by its wall
clock). The task's call must end by t + L − L/4 (its local deadline): when heartbeats fail
(the database is unreachable, a statement hangs), the call is cancelled before the lease can
expire, so the old holder has stopped before any other worker may take the rows. With the
default L = 60 s: a heartbeat every 20 s (two may fail in a row), the call stops at the latest
45 s after the last confirmed heartbeat, 15 s before another worker may take the rows over.
The 15 s margin covers the difference between the hosts' clocks and the time a cancelled call
needs to stop.

A heartbeat that finds a row no longer held (taken over after its lease expired while this
process was frozen: SIGSTOP, a VM pause, a very long collection) marks the lease lost: the call
is cancelled at once and nothing is recorded for those rows.

Every call also has a deadline of its own (`delivery_timeout`, config
`outbox.delivery_timeout_seconds`): past it, the call is cancelled and the row is retried like
any transient failure (`DeadlineExceeded`), as the same row, so a platform with an
idempotency key derived from the row (VK's random_id, bridge/outbox/senders.py) never shows it
twice.

What no lease can prevent: a call the platform had already accepted when it was cut off (a
deadline, a lost lease, kill -9), or one that finished while the database was unreachable so
that its outcome could not be recorded, is sent again by the next holder — on a platform
without an idempotency key (Telegram), the customer may see it twice. At most the calls in
flight at the fault.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from bridge.errors import TransientError
from storage import outbox as store

log = logging.getLogger(__name__)

#: The heartbeat runs every this share of the lease.
HEARTBEAT_SHARE = 1 / 3
#: A call must end this share of the lease before the lease can expire.
MARGIN_SHARE = 1 / 4

T = TypeVar("T")


class LeaseLost(Exception):
    """The rows may no longer be this worker's: nothing may be sent or recorded for them.

    `taken` is True when another worker holds them now, False when the lease could not be
    confirmed in time (the database did not answer) and may be about to expire.
    """

    def __init__(self, message: str, *, taken: bool) -> None:
        super().__init__(message)
        self.taken = taken


class DeadlineExceeded(TransientError):
    """A call ran past its delivery deadline and was cancelled; it is retried as the same row.

    The platform may have received it (sent but not confirmed)."""


class HeldLease:
    """The rows one task holds (row id → fencing token) and until when its call may run."""

    def __init__(self, tokens: Mapping[int, int], safe_until: float) -> None:
        self.tokens: dict[int, int] = dict(tokens)
        #: Monotonic time by which a call on these rows must have ended (the local deadline).
        self.safe_until = safe_until
        self.lost = False
        #: The call is over and its outcome is being recorded: rows that stop being leased
        #: now were finished by this task, not taken over.
        self.settling = False
        #: The running call's timeout and its own delivery deadline (see run_within).
        self._call: tuple[asyncio.Timeout, float] | None = None

    @property
    def ids(self) -> list[int]:
        return list(self.tokens)

    def add(self, tokens: Mapping[int, int], safe_until: float) -> None:
        """More rows leased for the same call (merged followers)."""
        self.tokens.update(tokens)
        self.safe_until = min(self.safe_until, safe_until)
        self._reschedule()

    def confirm(self, safe_until: float) -> None:
        """A heartbeat extended every row: the call may run until `safe_until`."""
        if not self.lost and safe_until > self.safe_until:
            self.safe_until = safe_until
            self._reschedule()

    def lose(self) -> None:
        """Another worker holds (some of) the rows now: a running call stops at once."""
        self.lost = True
        self._reschedule()

    def check(self, now: float) -> None:
        """LeaseLost unless the rows are still safely this worker's at monotonic `now`."""
        if self.lost:
            raise LeaseLost(f"rows {self.ids} were taken over by another worker", taken=True)
        if now >= self.safe_until:
            raise LeaseLost(
                f"the lease of rows {self.ids} could not be extended in time", taken=False
            )

    def _reschedule(self) -> None:
        if self._call is not None:
            timeout, deadline = self._call
            if timeout.expired():
                return
            when = min(deadline, self.safe_until)
            timeout.reschedule(asyncio.get_running_loop().time() if self.lost else when)


class Heartbeat:
    """Extends the leases of every task of one worker; see the module docstring."""

    def __init__(
        self,
        session_factory: Callable[[], Any],
        *,
        owner: str,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session_factory = session_factory
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.interval = lease_seconds * HEARTBEAT_SHARE
        self.margin = lease_seconds * MARGIN_SHARE
        self.clock = clock
        self._held: set[HeldLease] = set()

    def safe_until(self, started: float) -> float:
        """The local deadline of a lease whose statement started at monotonic `started`."""
        return started + self.lease_seconds - self.margin

    def hold(self, tokens: Mapping[int, int], started: float) -> HeldLease:
        """Keep extending these rows (leased by a statement that started at `started`)."""
        lease = HeldLease(tokens, self.safe_until(started))
        self._held.add(lease)
        return lease

    def drop(self, lease: HeldLease) -> None:
        """Stop extending a task's rows (its outcome is recorded, or it gave them up)."""
        self._held.discard(lease)

    @property
    def holding(self) -> int:
        """Tasks whose rows are kept leased."""
        return len(self._held)

    async def run(self) -> None:
        """Beat every `interval` (start to start) until cancelled. A beat that hangs delays
        the next one; the local deadlines do not wait for it (run_within's timeouts)."""
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self.interval
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            next_at = loop.time() + self.interval
            try:
                await self.beat()
            except Exception:  # the database may be unreachable: the deadlines take over
                log.warning("outbox: lease heartbeat failed", exc_info=True)

    async def beat(self) -> None:
        """Extend every held row in one transaction; confirm or lose each task's lease."""
        leases = [(lease, dict(lease.tokens)) for lease in self._held if not lease.lost]
        if not leases:
            return
        tokens: dict[int, int] = {}
        for _, mine in leases:
            tokens.update(mine)
        started = asyncio.get_running_loop().time()
        until = datetime.fromtimestamp(self.clock() + self.lease_seconds, UTC)
        async with self.session_factory() as session:
            kept = await store.extend_lease(session, tokens, owner=self.owner, lease_until=until)
            await session.commit()
        for lease, mine in leases:
            if lease not in self._held or lease.settling:
                continue  # finished meanwhile (its rows are no longer leased: not a loss)
            if mine.keys() <= kept:
                lease.confirm(self.safe_until(started))
            else:
                log.warning(
                    "outbox: rows %s were taken over by another worker after their lease "
                    "expired (was this process paused?); their call is stopped, not recorded",
                    sorted(mine.keys() - kept),
                )
                lease.lose()


async def run_within(call: Awaitable[T], lease: HeldLease, seconds: float) -> T:
    """Await `call` while `lease` is safe and for at most `seconds`.

    Otherwise the call is cancelled (in this task, so it has stopped when this returns) and
    `LeaseLost` (the lease) or `DeadlineExceeded` (the deadline) is raised. Exceptions of the
    call pass through. The heartbeat moves the timeout as it confirms or loses the lease.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    timeout = asyncio.timeout_at(min(deadline, lease.safe_until))
    try:
        lease.check(loop.time())
        async with timeout:
            lease._call = (timeout, deadline)
            return await call
    except TimeoutError:
        if not timeout.expired():
            raise  # the call's own TimeoutError, not our deadline
        lease.check(loop.time())
        raise DeadlineExceeded(
            f"no answer within the delivery deadline of {seconds:g}s (cancelled; the "
            "platform may have received it)"
        ) from None
    finally:
        lease._call = None
        if inspect.iscoroutine(call) and inspect.getcoroutinestate(call) == "CORO_CREATED":
            call.close()  # never started (the lease was already lost): no "never awaited"
