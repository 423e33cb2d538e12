"""Jobs that run on one process: APScheduler 3 inside a leader duty (bridge/leader.py).

`LeaderScheduled` is the component base of the retention jobs (bridge/retention.py) and the
helpdesk's (bridge/helpdesk): `start` adds its duty to the process's `Leader`; while the
process leads, an `AsyncIOScheduler` runs each `Every` of `schedule()` on its interval; when
the duty is cancelled (leadership lost, or `stop`), the scheduler shuts down and the runs in
flight are cancelled. A run that raises is logged (and `failed` is told); the next runs on
schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bridge.components import ComponentState

if TYPE_CHECKING:
    from bridge.leader import Leader

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Every:
    """One scheduled job: `run()` every `seconds`, first `first` after the duty starts."""

    id: str
    run: Callable[[], Awaitable[object]]
    seconds: float
    first: timedelta


class LeaderScheduled:
    """Base of a component whose jobs run while this process leads. Subclasses set `duty`
    (the leader duty's name) and `leader`, and give `schedule()`."""

    duty: str = ""
    leader: Leader

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._started = False

    def schedule(self) -> list[Every]:
        """The jobs to run while leading."""
        raise NotImplementedError

    def failed(self, every: Every) -> None:
        """A run of `every` raised (after it was logged): count it where metrics want it."""

    async def start(self) -> None:
        await self.leader.add_duty(self.duty, self._lead)
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.leader.remove_duty(self.duty)
        self._started = False

    def state(self) -> ComponentState:
        if not self._started:
            return ComponentState("stopped")
        if not self.leader.is_leader:
            return ComponentState("running", "standby: the leader process runs the jobs")
        return ComponentState("running")

    async def _lead(self) -> None:
        """The duty: APScheduler runs the jobs until the leader cancels it."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        now = datetime.now(UTC)
        jobs = self.schedule()
        for every in jobs:
            scheduler.add_job(
                self._scheduled,
                "interval",
                args=(every,),
                id=every.id,
                name=f"{self.duty}:{every.id}",
                seconds=every.seconds,
                next_run_time=now + every.first,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        scheduler.start()
        log.info("%s jobs scheduled: %s", self.duty, ", ".join(e.id for e in jobs))
        try:
            await asyncio.Future()  # until the leader cancels the duty
        finally:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # the scheduler shuts down on the loop's next turn
            for task in list(self._tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _scheduled(self, every: Every) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await every.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failed(every)
            log.exception("%s job %s failed; it runs again on schedule", self.duty, every.id)
        finally:
            if task is not None:
                self._tasks.discard(task)
