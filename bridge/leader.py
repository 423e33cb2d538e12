"""One leader among the processes that share a database: it alone runs the leader-only duties.

Several processes behind a load balancer share one PostgreSQL (README, "Several processes").
Webhooks are served by all of them, but a poller (Telegram getUpdates, VK long poll) and the
scheduled jobs (the dashboards) must run once. Every process campaigns with
`pg_try_advisory_lock` on a dedicated connection (storage/leader_lock.py); the one that holds
the lock and the `leader_lease` row runs the duties.

The bounds (C = `check_interval`, defaults for C = 2 s in brackets):

- **Confirm.** The leader confirms every C: one UPDATE of its lease row over the lock's own
  connection, which proves the session (and so the lock) alive and renews the lease.
- **Self-fence, F = `fence_after`** (3·C = 6 s). The leader stops its duties (cancelled at
  once) when no confirmation succeeded for F, measured from when the last successful one was
  sent: a frozen network, a dead server, a terminated backend, a lease someone else took.
  It then drops the connection without a goodbye and campaigns again.
- **Takeover, T = `takeover_after`** (F + 2·C = 10 s). A standby starts duties only when the
  lease was released cleanly, or was last renewed more than T ago by the server's clock. When
  the lock is still held by the stale holder's session (a cut the server has not noticed), the
  standby ends that session (`pg_terminate_backend`) and takes the lock. A standby that got the
  lock because the server dropped the old session still waits until the lease is T old. Since
  the old leader fenced itself by F after its last renewal and T > F, two leaders never run
  duties at once (barring clocks that drift by more than T − F over F).
  A standby looks every `retry_interval`, so it leads at most T + `retry_interval` (+ the time
  to end the stale session, ≤ 2 s) after the old leader's last confirmation.
- **Clean hand-over.** A leader that stops (its last duty removed, the service stopping)
  releases the lease: a standby takes over within `retry_interval`.
- SQLite serves one process: there the process is always the leader.

Fencing: each leadership has a term (the lease's `term`, +1 at every takeover). A duty reads
its own with `current_term()` and asks `leader.still_leading(term)` before an action that must
not be done by an old leader; the duties today are safe anyway (the getUpdates offset and every
update's effects are deduplicated in the database, dashboards only edit).

A duty is a coroutine function that runs until cancelled (a poll loop, a timer loop). If one
raises, it is logged and restarted after `retry_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from storage.db import backend_name
from storage.leader_lock import AdvisoryLock

log = logging.getLogger(__name__)

#: The advisory lock's name; every process of one deployment uses the same.
LOCK_NAME = "talker-bridge:leader"

Duty = Callable[[], Awaitable[None]]

_TERM: contextvars.ContextVar[int | None] = contextvars.ContextVar("leader_term", default=None)


def current_term() -> int | None:
    """The leadership term the calling leader duty runs under (None outside a duty)."""
    return _TERM.get()


class LeadershipLost(Exception):
    """The leader could not confirm its lock in time, or another process took the lease."""


class Leader:
    """Leader election for this process; duties run only while it leads.

    `add_duty` / `remove_duty` may be called at any time; the campaign starts with the first
    duty and ends (releasing the lock and the lease) when the last one is removed.
    """

    def __init__(
        self,
        database: str,
        *,
        name: str = LOCK_NAME,
        retry_interval: float = 2.0,
        check_interval: float = 2.0,
        timeout: float = 5.0,
        fence_after: float | None = None,
        takeover_after: float | None = None,
        holder: str | None = None,
    ) -> None:
        if retry_interval <= 0 or check_interval <= 0:
            raise ValueError("retry_interval and check_interval must be positive")
        fence = 3 * check_interval if fence_after is None else fence_after
        takeover = fence + 2 * check_interval if takeover_after is None else takeover_after
        if fence <= check_interval:
            raise ValueError("fence_after must be longer than check_interval")
        if takeover <= fence:
            raise ValueError("takeover_after must be longer than fence_after")
        self.database = database
        self.name = name
        self.retry_interval = retry_interval
        self.check_interval = check_interval
        self.timeout = timeout
        #: F: a leader without a confirmation for this long stops its duties.
        self.fence_after = fence
        #: T: a standby takes over a lease not renewed for this long.
        self.takeover_after = takeover
        #: Who this process is in the lease row.
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.shared = backend_name(database) == "postgresql"
        self._duties: dict[str, Duty] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._campaign: asyncio.Task[None] | None = None
        self._leading = False
        self._term: int | None = None
        self._confirmed_at = 0.0
        self.lock: AdvisoryLock | None = None
        #: How many times this process became the leader (for tests and /metrics).
        self.terms = 0

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def term(self) -> int | None:
        """The term this process leads under now (None on a standby)."""
        return self._term if self._leading else None

    def still_leading(self, term: int | None = None) -> bool:
        """Whether this process leads (under `term`, if given) and confirmed within F."""
        if not self._leading or (term is not None and term != self._term):
            return False
        loop = asyncio.get_running_loop()
        return loop.time() - self._confirmed_at < self.fence_after

    def running_duties(self) -> list[str]:
        """Names of the duties running now (empty on a standby)."""
        return sorted(name for name, task in self._running.items() if not task.done())

    async def add_duty(self, name: str, duty: Duty) -> None:
        """Run `duty` whenever this process leads (at once if it leads now)."""
        if name in self._duties:
            raise ValueError(f"duty {name!r} is already registered")
        self._duties[name] = duty
        if self._leading:
            self._start_duty(name)
        if self._campaign is None:
            self._campaign = asyncio.create_task(self._campaign_loop(), name=f"leader:{self.name}")

    async def remove_duty(self, name: str) -> None:
        """Stop and forget a duty; the last removal ends the campaign and frees the lock."""
        self._duties.pop(name, None)
        task = self._running.pop(name, None)
        if task is not None:
            await _cancel(task)
        if not self._duties and self._campaign is not None:
            campaign, self._campaign = self._campaign, None
            await _cancel(campaign)

    # --- the campaign -----------------------------------------------------------------

    async def _campaign_loop(self) -> None:
        try:
            while True:
                try:
                    term = await self._try_to_lead()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("leader election failed: %s; retrying", exc)
                    self._drop_lock()
                    term = None
                if term is not None:
                    await self._lead(term)
                await asyncio.sleep(self.retry_interval)
        finally:
            if self._leading:
                await self._end_term(clean=True)
            elif self.lock is not None:
                lock, self.lock = self.lock, None
                await lock.close()

    async def _try_to_lead(self) -> int | None:
        """One round of the campaign: the new term when this process now leads, else None."""
        loop = asyncio.get_running_loop()
        if not self.shared:
            self._confirmed_at = loop.time()
            return self.terms + 1
        if self.lock is None:
            self.lock = AdvisoryLock(self.database, self.name, timeout=self.timeout)
        lock = self.lock
        if not await lock.try_acquire():
            lease = await lock.lease()
            if lease is None or lease.holder_pid is None or lease.age < self.takeover_after:
                return None
            if lease.holder_pid == lock.server_pid:
                return None
            if not await lock.end_session(lease.holder_pid):
                return None  # the lock is held by another session (a standby waiting)
            log.warning(
                "the leader %s did not confirm its lock for %.1f s: its session was ended",
                lease.holder,
                lease.age,
            )
            if not await lock.try_acquire():
                return None
        lease = await lock.lease()
        if (
            lease is not None
            and lease.holder is not None
            and lease.holder != self.holder
            and lease.age < self.takeover_after
        ):
            # The old leader's session is gone but it may not have fenced itself yet: keep the
            # lock and wait until its lease is older than the takeover bound.
            wait = self.takeover_after - lease.age
            log.info("holding the lock; the old leader's lease ends in %.1f s", wait)
            return None
        started = loop.time()
        term = await lock.claim(self.holder)
        self._confirmed_at = started
        return term

    async def _lead(self, term: int) -> None:
        """Run the duties under `term` until the lock cannot be confirmed within F."""
        self._begin_term(term)
        try:
            await self._hold()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("leadership lost (%s); duties stopped", exc)
            await self._end_term(clean=False)

    def _begin_term(self, term: int) -> None:
        self._leading = True
        self._term = term
        self.terms += 1
        log.info(
            "this process is now the leader, term %s (%s)",
            term,
            ", ".join(self._duties) or "no duties",
        )
        for name in list(self._duties):
            self._start_duty(name)

    async def _hold(self) -> None:
        """Confirm every `check_interval`; restart duties that crashed."""
        while True:
            await asyncio.sleep(self.check_interval)
            await self._confirm()
            for name in list(self._duties):
                task = self._running.get(name)
                if task is None or task.done():
                    self._start_duty(name)

    async def _confirm(self) -> None:
        """Renew the lease over the lock's connection before F has passed, or raise."""
        loop = asyncio.get_running_loop()
        if self.lock is None or self._term is None:
            self._confirmed_at = loop.time()
            return
        remaining = self._confirmed_at + self.fence_after - loop.time()
        if remaining <= 0:
            raise LeadershipLost(f"the lock was not confirmed within {self.fence_after:g} s")
        started = loop.time()
        try:
            async with asyncio.timeout(remaining):
                renewed = await self.lock.renew(self.holder, self._term)
        except TimeoutError:
            raise LeadershipLost(
                f"the lock was not confirmed within {self.fence_after:g} s"
            ) from None
        if not renewed:
            raise LeadershipLost(f"another process took over the lease (term {self._term})")
        self._confirmed_at = started

    async def _end_term(self, *, clean: bool) -> None:
        """Stop every duty first; then release the lease (`clean`) or drop the connection."""
        was_leading, self._leading = self._leading, False
        term, self._term = self._term, None
        running, self._running = self._running, {}
        for task in running.values():
            await _cancel(task)
        if was_leading:
            log.info("this process is no longer the leader")
        if self.lock is None:
            return
        if not clean:
            self._drop_lock()
            return
        lock, self.lock = self.lock, None
        if term is not None:
            try:
                async with asyncio.timeout(self.timeout):
                    await lock.release(self.holder, term)
            except Exception as exc:  # the standby then waits for T instead
                log.warning("could not hand the leader lease back: %s", exc)
        await lock.close()

    def _drop_lock(self) -> None:
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.terminate()

    def _start_duty(self, name: str) -> None:
        task = self._running.get(name)
        if task is not None and not task.done():
            return
        context = contextvars.copy_context()
        context.run(_TERM.set, self._term)
        self._running[name] = asyncio.create_task(
            self._guarded(name), name=f"duty:{name}", context=context
        )

    async def _guarded(self, name: str) -> None:
        duty = self._duties.get(name)
        if duty is None:
            return
        try:
            await duty()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("leader duty %s failed; it restarts on the next check", name)
            await asyncio.sleep(self.retry_interval)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
