"""Retention: finished work is deleted after the config's periods, by one process at a time.

Nothing the bridge stores is needed forever. Four jobs delete what is older than its period
in `retention:` (config/schema.py `RetentionConfig`):

- `outbox`: finished outbox rows (sent, failed for good, superseded), counted from when they
  finished; they carry whole payloads (base64 avatars) and results. Pending rows stay.
- `processed_events`: the ids that catch duplicate webhooks and updates.
- `unattached_uploads`: files a visitor uploaded in the widget and never sent: an upload is
  checked once its file is older than the period (its modification time first, then the
  database: does a message of that visitor's channel carry the file as an attachment?).
- `files`: every stored file (widget uploads and operators' files kept for visitors) older
  than the period, and the folders they leave empty.
- `closed_conversations` (off unless set): the messages of conversations closed longer ago
  than the period, their outbox rows and rating comments, and the stored files those messages
  used (each platform's `FileArea.used_by` finds them). The conversations stay, without
  content, for the counters and /stats; /history says the messages were deleted.

The files live where a platform keeps them; the platform hands a `FileArea` over at wiring
(`PlatformParts.kept_files`), so the core knows no folder layout.

Once across processes: the jobs run on APScheduler's `AsyncIOScheduler`, started inside a
leader duty (bridge/leader.py) and shut down when the duty is cancelled, so with several
processes on one PostgreSQL only the leader's scheduler runs. In the short overlap a leader
change may have, two runs are harmless: deletes are idempotent, and a batch skips rows that
another transaction holds. Each job runs every half of its period, at most hourly; a leader
runs each job for the first time within a minute of taking over.

Deletes go in batches of `batch` rows, one transaction each, so a big backlog never holds the
database for long. Every run counts what it deleted in /metrics
(`talker_bridge_retention_deleted_total{job}`) and stamps
`talker_bridge_retention_last_run_timestamp_seconds{job}`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bridge.scheduled import Every, LeaderScheduled
from bridge.web.metrics import RETENTION_DELETED, RETENTION_FAILURES, RETENTION_LAST_RUN
from storage.retention import (
    MessageFiles,
    attachment_refs,
    delete_closed_content,
    delete_finished_outbox,
    delete_processed_events,
)

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.leader import Leader
    from config import RetentionConfig

log = logging.getLogger(__name__)

OUTBOX = "outbox"
PROCESSED_EVENTS = "processed_events"
UNATTACHED_UPLOADS = "unattached_uploads"
FILES = "files"
CLOSED_CONVERSATIONS = "closed_conversations"
#: Every job, by its key in `retention:`.
JOBS = (OUTBOX, PROCESSED_EVENTS, UNATTACHED_UPLOADS, FILES, CLOSED_CONVERSATIONS)
FILE_JOBS = (UNATTACHED_UPLOADS, FILES)

#: The leader duty's name (bridge/leader.py).
DUTY = "retention"
#: Rows per delete statement (and files per pass off the event loop).
BATCH = 500
#: Conversations per batch of the closed-conversations job (each may hold many messages).
CONVERSATIONS_PER_BATCH = 50
#: Customers per attachment query of the unattached-uploads job.
CUSTOMERS_PER_QUERY = 200
#: A job runs every half of its period, but at least this often.
MAX_INTERVAL = timedelta(hours=1)
#: A new leader runs each job this long after taking over (or after its interval, if shorter).
FIRST_RUN_DELAY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class KeptFile:
    """One file a platform stores.

    `channel` and `customer` (the customer's platform id) say whose it is; `ref` is the
    `file_ref` a message's attachment carries when it uses the file; `uploaded` is True for a
    file the customer uploaded (it must be attached to a message of theirs to stay), False for
    one kept for them (an operator's file); `modified` is when it was last written.
    """

    channel: str
    customer: str
    ref: str
    modified: datetime
    uploaded: bool
    path: Path


class FileArea(Protocol):
    """Files a platform keeps on disk (the site widget's file store).

    The methods do blocking I/O; the jobs call them in a worker thread. `remove` of a file
    already gone is not an error (returns False).
    """

    name: str

    def scan(self) -> list[KeptFile]:
        """Every stored file."""
        ...

    def remove(self, file: KeptFile) -> bool:
        """Delete the file; True when it was there."""
        ...

    def tidy(self, before: datetime) -> int:
        """Remove folders that are empty and unchanged since `before`; how many went."""
        ...

    def used_by(self, messages: Sequence[MessageFiles]) -> list[KeptFile]:
        """The stored files these (deleted) messages used that are still here."""
        ...


def interval_of(period: timedelta) -> timedelta:
    """How often a job with this period runs: half the period, at most `MAX_INTERVAL`."""
    return min(period / 2, MAX_INTERVAL)


class Retention(LeaderScheduled):
    """The retention jobs as a component: a leader duty that runs APScheduler.

    `sessions` makes a session of the process's database (`Runtime.session`); `leader` is the
    process's `Leader`. `run(job)` runs one job now (what the scheduler calls).
    """

    name = "retention"
    duty = DUTY

    def __init__(
        self,
        config: RetentionConfig,
        *,
        sessions: Callable[[], AsyncSession],
        leader: Leader,
        files: Iterable[FileArea] = (),
        batch: int = BATCH,
    ) -> None:
        if batch <= 0:
            raise ValueError(f"batch must be positive, got {batch}")
        super().__init__()
        self.config = config
        #: Each scheduled job's period (a job set to keep everything has none).
        self.periods: dict[str, timedelta] = {
            job: period for job in JOBS if (period := getattr(config, job)) is not None
        }
        self._sessions = sessions
        self.leader = leader
        self.areas: list[FileArea] = list(files)
        self.batch = batch
        #: Runs finished by this process, deleted rows and files, and when each job last ran.
        self.runs: Counter[str] = Counter()
        self.deleted: Counter[str] = Counter()
        self.last_run: dict[str, datetime] = {}
        # Uploads found attached to a message: checked once, not on every run.
        self._attached: set[tuple[str, str, str]] = set()

    def add_files(self, area: FileArea) -> None:
        """Keep `area`'s files too (the wiring adds each platform's `kept_files`)."""
        self.areas.append(area)

    def jobs(self) -> list[str]:
        """The jobs this process schedules: those with a period, the file jobs only when a
        platform keeps files."""
        return [
            job for job in JOBS if job in self.periods and (job not in FILE_JOBS or self.areas)
        ]

    # ---- the component (bridge/scheduled.py) -----------------------------------------------

    def schedule(self) -> list[Every]:
        """Each job every half of its period (at most hourly), first within a minute."""
        jobs = []
        for job in self.jobs():
            interval = interval_of(self.periods[job])
            jobs.append(
                Every(
                    job,
                    functools.partial(self.run, job),
                    interval.total_seconds(),
                    min(interval, FIRST_RUN_DELAY),
                )
            )
        return jobs

    def failed(self, every: Every) -> None:
        RETENTION_FAILURES.labels(every.id).inc()

    # ---- the jobs ------------------------------------------------------------------------

    async def run(self, job: str, *, now: datetime | None = None) -> int:
        """Run one job now; returns how many rows or files it deleted."""
        if job not in JOBS:
            raise ValueError(f"no retention job {job!r} (known: {', '.join(JOBS)})")
        if job not in self.periods:
            raise ValueError(f"retention job {job!r} is off: `retention.{job}` keeps everything")
        now = now or datetime.now(UTC)
        before = now - self.periods[job]
        started = time.monotonic()
        if job == OUTBOX:
            deleted = await self._delete_rows(delete_finished_outbox, before)
        elif job == PROCESSED_EVENTS:
            deleted = await self._delete_rows(delete_processed_events, before)
        elif job == UNATTACHED_UPLOADS:
            deleted = await self._unattached_uploads(before)
        elif job == CLOSED_CONVERSATIONS:
            deleted = await self._closed_conversations(before)
        else:
            deleted = await self._old_files(before, now - self.periods[UNATTACHED_UPLOADS])
        self.runs[job] += 1
        self.deleted[job] += deleted
        self.last_run[job] = now
        RETENTION_DELETED.labels(job).inc(deleted)
        RETENTION_LAST_RUN.labels(job).set_to_current_time()
        level = logging.INFO if deleted else logging.DEBUG
        log.log(
            level,
            "retention %s: deleted %d older than %s in %.1f s",
            job,
            deleted,
            before.isoformat(timespec="seconds"),
            time.monotonic() - started,
        )
        return deleted

    async def _delete_rows(
        self, delete: Callable[[AsyncSession, datetime, int], Awaitable[int]], before: datetime
    ) -> int:
        total = 0
        while True:
            async with self._sessions() as session, session.begin():
                deleted = await delete(session, before, self.batch)
            total += deleted
            if deleted < self.batch:
                return total
            await asyncio.sleep(0)  # let the intake in between batches

    async def _closed_conversations(self, before: datetime) -> int:
        """Messages (and the files they used) of conversations closed before `before`."""
        total = 0
        while True:
            async with self._sessions() as session, session.begin():
                batch = await delete_closed_content(session, before, CONVERSATIONS_PER_BATCH)
            total += batch.messages
            if batch.files and self.areas:
                total += await self._remove_used(batch.files)
            if batch.conversations < CONVERSATIONS_PER_BATCH:
                return total
            await asyncio.sleep(0)  # let the intake in between batches

    async def _remove_used(self, messages: Sequence[MessageFiles]) -> int:
        found: list[tuple[FileArea, KeptFile]] = []
        for area in self.areas:
            files = await asyncio.to_thread(area.used_by, messages)
            found.extend((area, file) for file in files)
        return await self._remove(found)

    async def _scan(self) -> list[tuple[FileArea, KeptFile]]:
        found: list[tuple[FileArea, KeptFile]] = []
        for area in self.areas:
            files = await asyncio.to_thread(area.scan)
            found.extend((area, file) for file in files)
        return found

    async def _remove(self, files: Sequence[tuple[FileArea, KeptFile]]) -> int:
        def remove(chunk: Sequence[tuple[FileArea, KeptFile]]) -> int:
            return sum(area.remove(file) for area, file in chunk)

        removed = 0
        for start in range(0, len(files), self.batch):
            removed += await asyncio.to_thread(remove, files[start : start + self.batch])
        return removed

    async def _unattached_uploads(self, before: datetime) -> int:
        scanned = await self._scan()
        seen = {(area.name, f.channel, f.ref) for area, f in scanned}
        self._attached &= seen  # forget files that are gone
        candidates = [
            (area, f)
            for area, f in scanned
            if f.uploaded
            and f.modified < before
            and (area.name, f.channel, f.ref) not in self._attached
        ]
        by_channel: dict[str, set[str]] = defaultdict(set)
        for _, f in candidates:
            by_channel[f.channel].add(f.customer)
        used: dict[tuple[str, str], set[str]] = {}
        for channel, customers in by_channel.items():
            ordered = sorted(customers)
            for start in range(0, len(ordered), CUSTOMERS_PER_QUERY):
                async with self._sessions() as session:
                    refs = await attachment_refs(
                        session, channel, ordered[start : start + CUSTOMERS_PER_QUERY]
                    )
                for customer, found in refs.items():
                    used[channel, customer] = found
        unattached = []
        for area, f in candidates:
            if f.ref in used.get((f.channel, f.customer), ()):
                self._attached.add((area.name, f.channel, f.ref))
            else:
                unattached.append((area, f))
        return await self._remove(unattached)

    async def _old_files(self, before: datetime, folders_before: datetime) -> int:
        scanned = await self._scan()
        removed = await self._remove([(area, f) for area, f in scanned if f.modified < before])
        for area in self.areas:
            await asyncio.to_thread(area.tidy, folders_before)
        return removed
