"""The helpdesk's scheduled jobs: SLA reminders and the auto-close, run by one process.

Three jobs, each over every group that configures it (config/schema.py `GroupConfig`):

- `accept_reminders` (`sla.accept_within`): a card still not accepted gets a reminder in the
  group's Incoming feed and private pings (bridge/helpdesk/reminders.py);
- `answer_reminders` (`sla.answer_within`): the claimer of a conversation whose customer waits
  for an answer is reminded privately, or in the place;
- `auto_close` (`auto_close_after`): a claimed conversation silent that long is closed as
  /close would, "for inactivity" (bridge/helpdesk/auto_close.py).

Like the retention jobs (bridge/retention.py), they run on APScheduler's `AsyncIOScheduler`
inside a leader duty (bridge/leader.py), so with several processes on one PostgreSQL only the
leader ticks. That is for economy, not for correctness: every reminder is claimed in the
database (`storage.helpdesk.claim_reminder`, a unique key per wait) in the transaction that
queues it, and the conversation's row is locked while it is decided, so two processes ticking
at once (a leader change's overlap) still send each reminder once and close once.

One tick runs every job; ticks come every `tick_interval` (a tenth of the shortest configured
time, between 1 and 30 s, compressed by `time_scale` like the rest of the waiting). `tick(now=)`
and `run(job, now=)` take the clock as an argument: tests drive the jobs with it, no waiting.
Everything is enqueued through the outbox, so reminders are paced with every other post.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bridge.core.texts import CustomerTexts
from bridge.helpdesk.auto_close import auto_close_group
from bridge.helpdesk.reminders import accept_reminders, answer_reminders
from bridge.hours import WorkingHours
from bridge.scheduled import Every, LeaderScheduled

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk, Outlets
    from bridge.leader import Leader
    from config import BridgeConfig, GroupConfig

log = logging.getLogger(__name__)

ACCEPT_REMINDERS = "accept_reminders"
ANSWER_REMINDERS = "answer_reminders"
AUTO_CLOSE = "auto_close"
#: Every job, in the order a tick runs them.
JOBS = (ACCEPT_REMINDERS, ANSWER_REMINDERS, AUTO_CLOSE)
#: The leader duty's name.
DUTY = "helpdesk"
#: Ticks come at least this often (before `time_scale`) ...
MAX_TICK = timedelta(seconds=30)
#: ... and at most this often.
MIN_TICK = timedelta(seconds=1)
#: A tick comes every this fraction of the shortest configured time.
TICK_FRACTION = 10

Transaction = Callable[[], AbstractAsyncContextManager["AsyncSession"]]


def group_times(group: GroupConfig) -> dict[str, timedelta]:
    """The jobs a group configures, with their time."""
    times = {
        ACCEPT_REMINDERS: group.sla.accept_within,
        ANSWER_REMINDERS: group.sla.answer_within,
        AUTO_CLOSE: group.auto_close_after,
    }
    return {job: time for job, time in times.items() if time is not None}


def wanted(config: BridgeConfig) -> bool:
    """Whether any group configures a reminder or the auto-close (the wiring adds the jobs)."""
    return any(group_times(group) for group in config.groups.values())


def tick_interval(config: BridgeConfig, time_scale: float = 1.0) -> float:
    """Seconds between two ticks: a tenth of the shortest configured time, within 1-30 s,
    divided by `time_scale`."""
    times = [time for group in config.groups.values() for time in group_times(group).values()]
    interval = min([MAX_TICK, *(time / TICK_FRACTION for time in times)])
    return max(interval, MIN_TICK).total_seconds() / time_scale


class Helpdesk(LeaderScheduled):
    """The helpdesk jobs as a component: a leader duty that ticks them with APScheduler.

    `transaction` opens a committed transaction (`Runtime.transaction`, which wakes the
    outbox worker after it); `sessions` a plain session for the reads; `desk` is the process's
    desk (its `RemindingDesk` ability posts the reminders); `outlets` reach the customers
    (the auto-close's goodbye).
    """

    name = "helpdesk"
    duty = DUTY

    def __init__(
        self,
        config: BridgeConfig,
        *,
        transaction: Transaction,
        sessions: Callable[[], AsyncSession],
        leader: Leader,
        desk: Desk,
        outlets: Outlets,
        time_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.config = config
        self.transaction = transaction
        self.sessions = sessions
        self.leader = leader
        self.desk = desk
        self.outlets = outlets
        self.texts = CustomerTexts(config.texts.override)
        self.interval = tick_interval(config, time_scale)
        self.hours = {name: WorkingHours(group.hours) for name, group in config.groups.items()}
        #: Reminders sent and conversations closed by this process, per job.
        self.done: Counter[str] = Counter()
        self.ticks = 0

    def groups(self, job: str) -> list[tuple[GroupConfig, timedelta]]:
        """The groups that configure `job`, with its time there."""
        found = []
        for group in self.config.groups.values():
            time = group_times(group).get(job)
            if time is not None:
                found.append((group, time))
        return found

    def jobs(self) -> list[str]:
        """The jobs some group configures."""
        return [job for job in JOBS if self.groups(job)]

    # ---- the component (bridge/scheduled.py) -----------------------------------------------

    def schedule(self) -> list[Every]:
        """One tick every `interval` seconds runs every job."""
        log.info("helpdesk jobs every %.1f s: %s", self.interval, ", ".join(self.jobs()))
        return [Every("tick", self.tick, self.interval, timedelta(seconds=self.interval))]

    # ---- the jobs ------------------------------------------------------------------------

    async def tick(self, *, now: datetime | None = None) -> dict[str, int]:
        """Run every configured job at `now` (default: the current time); what each did."""
        now = now or datetime.now(UTC)
        done = {job: await self.run(job, now=now) for job in self.jobs()}
        self.ticks += 1
        return done

    async def run(self, job: str, *, now: datetime | None = None) -> int:
        """Run one job at `now`; how many reminders it queued (conversations it closed)."""
        if job not in JOBS:
            raise ValueError(f"no helpdesk job {job!r} (known: {', '.join(JOBS)})")
        now = now or datetime.now(UTC)
        total = 0
        for group, time in self.groups(job):
            hours = self.hours[group.name]
            try:
                if job == ACCEPT_REMINDERS:
                    count = await accept_reminders(self, group, hours, time, now)
                elif job == ANSWER_REMINDERS:
                    count = await answer_reminders(self, group, hours, time, now)
                else:
                    count = await auto_close_group(self, group, time, now)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("helpdesk %s of group %s failed", job, group.name)
                continue
            total += count
        self.done[job] += total
        if total:
            log.info("helpdesk %s: %d at %s", job, total, now.isoformat(timespec="seconds"))
        return total
