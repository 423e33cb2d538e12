"""One leader among the processes that share a database: it alone runs the leader-only duties.

Several processes behind a load balancer share one PostgreSQL (README, "Several processes").
Webhooks are served by all of them, but a poller (Telegram getUpdates, VK long poll) and the
scheduled jobs (the dashboards) must run once. Every process campaigns with
`pg_try_advisory_lock` on a dedicated connection (storage/leader_lock.py); the one that holds
the lock runs the duties.

- The lock lives as long as its connection. The leader pings the connection every
  `check_interval`; when the ping fails (connection dropped, backend terminated, server gone)
  leadership is lost: the duties are cancelled at once and the process campaigns again.
- A standby retries the lock every `retry_interval`, so it takes over within about that long
  after the leader stops or dies (the server frees the lock when the connection ends).
- SQLite serves one process: there the process is always the leader.

A duty is a coroutine function that runs until cancelled (a poll loop, a timer loop). If one
raises, it is logged and restarted after `retry_interval`. Between a dropped connection and the
next ping a second leader may briefly exist; the duties are safe for that (the getUpdates offset
and every update's effects are deduplicated in the database, dashboards only edit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.db import backend_name
from storage.leader_lock import AdvisoryLock

log = logging.getLogger(__name__)

#: The advisory lock's name; every process of one deployment uses the same.
LOCK_NAME = "talker-bridge:leader"

Duty = Callable[[], Awaitable[None]]


class Leader:
    """Leader election for this process; duties run only while it leads.

    `add_duty` / `remove_duty` may be called at any time; the campaign starts with the first
    duty and ends (releasing the lock) when the last one is removed.
    """

    def __init__(
        self,
        database: str,
        *,
        name: str = LOCK_NAME,
        retry_interval: float = 2.0,
        check_interval: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        if retry_interval <= 0 or check_interval <= 0:
            raise ValueError("retry_interval and check_interval must be positive")
        self.database = database
        self.name = name
        self.retry_interval = retry_interval
        self.check_interval = check_interval
        self.timeout = timeout
        self.shared = backend_name(database) == "postgresql"
        self._duties: dict[str, Duty] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._campaign: asyncio.Task[None] | None = None
        self._leading = False
        self.lock: AdvisoryLock | None = None
        #: How many times this process became the leader (for tests and /metrics).
        self.terms = 0

    @property
    def is_leader(self) -> bool:
        return self._leading

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
        while True:
            try:
                if await self._acquire():
                    self._begin_term()
                    await self._hold()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._leading:
                    log.warning("leadership lost (%s); duties stopped", exc)
                else:
                    log.warning("leader election failed: %s; retrying", exc)
            finally:
                await self._end_term()
            await asyncio.sleep(self.retry_interval)

    async def _acquire(self) -> bool:
        if not self.shared:
            return True
        if self.lock is None:
            self.lock = AdvisoryLock(self.database, self.name, timeout=self.timeout)
        return await self.lock.try_acquire()

    def _begin_term(self) -> None:
        self._leading = True
        self.terms += 1
        log.info("this process is now the leader (%s)", ", ".join(self._duties) or "no duties")
        for name in list(self._duties):
            self._start_duty(name)

    async def _hold(self) -> None:
        """Lead until the lock's connection fails; restart duties that crashed."""
        while True:
            await asyncio.sleep(self.check_interval)
            if self.lock is not None:
                await self.lock.ping()
            for name in list(self._duties):
                task = self._running.get(name)
                if task is None or task.done():
                    self._start_duty(name)

    async def _end_term(self) -> None:
        was_leading, self._leading = self._leading, False
        running, self._running = self._running, {}
        for task in running.values():
            await _cancel(task)
        if self.lock is not None:
            lock, self.lock = self.lock, None
            await lock.close()
        if was_leading:
            log.info("this process is no longer the leader")

    def _start_duty(self, name: str) -> None:
        task = self._running.get(name)
        if task is not None and not task.done():
            return
        self._running[name] = asyncio.create_task(self._guarded(name), name=f"duty:{name}")

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
