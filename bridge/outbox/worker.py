"""The outbox worker: leases lane heads, paces them, sends them, records the outcome.

One dispatcher leases due lane heads (one per destination at a time in this process) and runs
each in its own task, up to `concurrency` at once; different destinations go in parallel, a
lane goes strictly one row after the other (the database only offers a lane's head).

A task: reserve a pacing slot in the shared `pacing` rows → sleep until it → take the text
rows that piled up behind the head meanwhile (coalescing) → one platform call → mark done in
its own short transaction right after the call, with the completion handlers.

Outcomes: RetryAfter → the row waits at least `seconds` and the destination is slowed down;
TransientError (and a call cut off at its delivery deadline) → retried forever with exponential
backoff and jitter; a row that keeps failing for `alarm_after_seconds` raises the alarm
(bridge/outbox/alarm.py: the log, the `outbox_transient_alarm` gauge, and the operators told
once through the `alarm` listener, and again once it recovers); PermanentError → failed with
the platform's reason, failure handlers called.

A row is sent only by a worker whose `handlers` know the row's handler (and whose `senders`
have its platform): otherwise it is not sent and waits like a transient failure (backoff, the
reason on the row, the alarm past `alarm_after_seconds`), for a worker that can complete it. The
call is the step that cannot be undone; sending it without its completion would lose what the
handler records (a card's message id, a topic) while the row says "done".

Leases (bridge/outbox/lease.py): one heartbeat per worker keeps the rows of every task leased
while the task runs, so a call may outlast `lease_seconds`; each call has a deadline of its
own (`delivery_timeout`: cancelled, then retried as a transient failure), and a call whose
lease can no longer be confirmed is cancelled before the lease expires. Every outcome is
recorded only over rows that still carry this worker's owner and fencing token.

What can repeat after a crash (kill -9): a call that the platform accepted but whose row was
not yet marked done — at most the rows in flight at that moment (one call per busy destination,
each possibly a merged message). On restart they are leased again (SQLite: at start-up;
PostgreSQL: when their lease expires) and sent again. The same holds for a call cut off by its
deadline or a lost lease after the platform had accepted it, and for one that finished while
the database was unreachable. Nothing else repeats, nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.errors import PermanentError, RetryAfter, TransientError
from bridge.outbox import metrics
from bridge.outbox.alarm import AlarmListener, AlarmTracker, StuckDestination
from bridge.outbox.coalesce import can_merge, mergeable_prefix, merged_payload
from bridge.outbox.enqueue import INTERACTIVE_BELOW
from bridge.outbox.handlers import HandlerRegistry
from bridge.outbox.lease import DeadlineExceeded, Heartbeat, HeldLease, LeaseLost, run_within
from bridge.outbox.pacing import BucketState, dump_log, load_log, penalize, reserve
from bridge.outbox.policy import PacingPolicy
from bridge.outbox.senders import Senders
from storage import outbox as store
from storage.db import dialect_name
from storage.faults import database_unavailable
from storage.outbox import Held

log = logging.getLogger(__name__)

MAX_MERGE = 50  # rows looked at behind a head when merging
#: A call later than this share of its window after its slot takes a new slot (see _too_late).
LATE_SHARE = 0.015
#: An ordinary call held by a window reserves its slot only this close to it (seconds).
RESERVE_AHEAD = 0.02
#: The default deadline of one delivery (config `outbox.delivery_timeout_seconds`).
DELIVERY_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class OutboxCall:
    """What a sender receives: the head row's fields, with the (possibly merged) payload."""

    id: int
    created_at: datetime
    platform: str
    destination: str
    lane: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    coalesce_key: str | None = None
    conversation_id: int | None = None
    message_id: int | None = None
    merged_ids: tuple[int, ...] = field(default=())
    handler: str | None = None
    priority: int = 100

    @property
    def interactive(self) -> bool:
        """What an operator waits for right after pressing Accept (see `INTERACTIVE_BELOW`)."""
        return self.priority < INTERACTIVE_BELOW


@dataclass(slots=True)
class WorkerStats:
    """In-process counts (the Prometheus metrics hold the same, across workers)."""

    sent: int = 0
    merged: int = 0
    retried: int = 0
    rate_limited: int = 0
    failed: int = 0


class OutboxWorker:
    """Sends outbox rows; see the module docstring. `start()`, `wake()`, `stop(drain)`."""

    def __init__(
        self,
        session_factory: Callable[[], Any],
        senders: Senders,
        policy: PacingPolicy,
        *,
        owner_id: str,
        concurrency: int = 16,
        handlers: HandlerRegistry | None = None,
        lease_seconds: float = 60.0,
        delivery_timeout: float = DELIVERY_TIMEOUT,
        poll_interval: float = 0.5,
        backoff_base: float = 1.0,
        backoff_max: float = 300.0,
        alarm_after_seconds: float = 300.0,
        alarm: AlarmListener | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if not owner_id:
            raise ValueError("owner_id must be a non-empty string")
        if lease_seconds <= 0 or poll_interval <= 0 or delivery_timeout <= 0:
            raise ValueError("lease_seconds, delivery_timeout and poll_interval must be positive")
        self.session_factory = session_factory
        self.senders = senders
        self.policy = policy
        self.owner_id = owner_id
        self.concurrency = concurrency
        #: Completions and failures by name; rows naming another handler are not sent here.
        self.handlers = handlers if handlers is not None else HandlerRegistry()
        self.lease_seconds = lease_seconds
        self.delivery_timeout = delivery_timeout
        #: Keeps the rows of every task leased while it runs (bridge/outbox/lease.py).
        self.leases = Heartbeat(
            session_factory, owner=owner_id, lease_seconds=lease_seconds, clock=clock
        )
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.alarms = AlarmTracker(alarm_after_seconds)
        self.alarm = alarm
        self.clock = clock
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        #: task -> (destination, interactive): a destination has one head of each class.
        self._tasks: dict[asyncio.Task[None], tuple[str, bool]] = {}
        self._calling: set[asyncio.Task[None]] = set()
        self._last_stats = 0.0

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start sending. On SQLite (one process) leases left by a crash are released first."""
        if self._dispatcher is not None:
            raise RuntimeError("worker already started")
        async with self.session_factory() as session:
            if dialect_name(session) == "sqlite":
                released = await store.release_all_leases(session)
                await session.commit()
                if released:
                    log.warning(
                        "outbox: %d rows were leased by a dead process; resending", released
                    )
        self._stopping = False
        self._heartbeat = asyncio.create_task(
            self.leases.run(), name=f"outbox-heartbeat:{self.owner_id}"
        )
        self._dispatcher = asyncio.create_task(self._dispatch(), name=f"outbox:{self.owner_id}")

    def wake(self) -> None:
        """Look for due rows now (call after committing an enqueue)."""
        self._wake.set()

    async def stop(self, drain: bool = True) -> None:
        """Stop leasing. `drain`: let calls already on the wire finish and be recorded; rows
        still waiting for their pace slot go back to pending. Without `drain` every task is
        cancelled at once (a call on the wire may then repeat after restart)."""
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            await self._dispatcher
            self._dispatcher = None
        for task in list(self._tasks):
            if not drain or task not in self._calling:
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._heartbeat is not None:  # after the tasks: a draining call keeps its lease
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        self.alarms.close()

    @property
    def in_flight(self) -> int:
        """Rows (heads) this worker is handling right now."""
        return len(self._tasks)

    # ---- dispatcher ------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._lease_and_spawn()
                await self._refresh_metrics()
            except Exception:  # the database may be briefly unreachable: log, keep going
                log.exception("outbox: leasing failed; retrying")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    async def _lease_and_spawn(self) -> None:
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            return
        started = asyncio.get_running_loop().time()
        now = self._now()
        async with self.session_factory() as session:
            rows = await store.lease_heads(
                session,
                owner=self.owner_id,
                now=now,
                lease_until=now + timedelta(seconds=self.lease_seconds),
                limit=free,
                busy_destinations={dest for dest, fast in self._tasks.values() if not fast},
                interactive_below=INTERACTIVE_BELOW,
                busy_interactive={dest for dest, fast in self._tasks.values() if fast},
            )
            calls = [(_snapshot(row), row.lease_token) for row in rows]
            await session.commit()
        for call, token in calls:
            lease = self.leases.hold({call.id: token}, started)
            task = asyncio.create_task(self._run(call, lease), name=f"outbox-row-{call.id}")
            self._tasks[task] = (call.destination, call.interactive)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._calling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox task crashed", exc_info=task.exception())
        self._wake.set()

    async def _refresh_metrics(self) -> None:
        if self.clock() - self._last_stats < 1.0:
            return
        self._last_stats = self.clock()
        async with self.session_factory() as session:
            depth, oldest = await store.queue_stats(session, self._now())
            await session.rollback()
        metrics.QUEUE_DEPTH.set(depth)
        metrics.OLDEST_PENDING.set(oldest)

    # ---- one row ---------------------------------------------------------------------------

    async def _run(self, head: OutboxCall, lease: HeldLease) -> None:
        held = lease.tokens  # grows with the merged followers
        try:
            self._check_handlers([head])
            buckets = self.policy.buckets_for(head.platform, head.destination, head.payload)
            slot = await self._wait_for_slot(buckets, head.interactive)
            group = await self._take_followers(head, lease)
            ids = [row.id for row in group]
            self._check_handlers(group)
            if self._too_late(buckets, slot):
                await self._wait_for_slot(buckets, head.interactive)
            call = replace(head, payload=merged_payload(group), merged_ids=tuple(ids))
            sender = self.senders.get(head.platform)
            if sender is None:
                raise TransientError(f"no sender registered for platform {head.platform!r}")
            task = asyncio.current_task()
            if task is not None:
                self._calling.add(task)
            result = await run_within(sender.deliver(call), lease, self.delivery_timeout)
        except asyncio.CancelledError:
            # Back to pending at once (a call cut off on the wire may then repeat).
            lease.settling = True
            await asyncio.shield(self._give_back(held, None, None, None, until_reachable=False))
            raise
        except LeaseLost as exc:
            self._recording(lease)
            await self._on_lease_lost(head, held, exc)
        except RetryAfter as exc:
            self._recording(lease)
            await self._on_retry_after(head, held, exc)
        except PermanentError as exc:
            self._recording(lease)
            await self._on_failed(head, held, exc)
        except TransientError as exc:
            self._recording(lease)
            reason = "deadline" if isinstance(exc, DeadlineExceeded) else "transient"
            await self._on_transient(head, held, str(exc), reason)
        except Exception as exc:
            self._recording(lease)
            if database_unavailable(exc):  # the pacing state could not be read: try again
                log.warning("outbox: rows %s wait for the database: %s", list(held), exc)
                await self._on_transient(head, held, f"database unreachable: {exc}", "database")
            else:  # a bug in a sender: keep the row, show the traceback
                log.exception("outbox: sender for %s raised a non-bridge error", head.platform)
                await self._on_transient(head, held, f"{type(exc).__name__}: {exc}")
        else:
            lease.settling = True
            await self._on_done(head, held, result)
        finally:
            self.leases.drop(lease)

    def _recording(self, lease: HeldLease) -> None:
        """The current task now records an outcome: a draining stop lets it finish (cancelled
        halfway, its transaction would roll back and leave the rows leased until the lease ran
        out), and the heartbeat keeps its rows leased but no longer reports them lost."""
        lease.settling = True
        task = asyncio.current_task()
        if task is not None:
            self._calling.add(task)

    def _check_handlers(self, group: Sequence[OutboxCall]) -> None:
        """TransientError (the rows stay queued) when a row's handler is not registered here."""
        unknown = sorted(
            {row.handler for row in group if row.handler and not self.handlers.knows(row.handler)}
        )
        if unknown:
            reason = f"no handler {', '.join(map(repr, unknown))} registered in this worker"
            log.error("outbox: rows %s not sent: %s", [row.id for row in group], reason)
            raise TransientError(f"{reason}: not sent")

    async def _wait_for_slot(self, buckets: Sequence[Any], interactive: bool = False) -> float:
        """Reserve a pacing slot and sleep until it (the heartbeat keeps the rows leased).

        An ordinary call held by a window (a group's 20 a minute) does not reserve a slot
        ahead: it sleeps until the window would let it go and reserves then, so an interactive
        call that comes meanwhile takes that slot and the ordinary one the next (a slot
        reserved ahead would make the operator's Accept wait behind it)."""
        held_by_window = not interactive and any(bucket.window for bucket in buckets)
        while True:
            slot, reserved = await self._reserve(buckets, interactive, ahead=not held_by_window)
            if reserved:
                break
            await asyncio.sleep(max(0.0, slot - self.clock()))
        wait = slot - self.clock()
        if wait > 0:
            await asyncio.sleep(wait)
        return slot

    def _too_late(self, buckets: Sequence[Any], slot: float) -> bool:
        """True when this call would go so long after its slot that it could crowd a later
        window (the loop was busy: a long statement, a collection pause): then it takes a new
        slot. The window's headroom is 5 %; a call may be late by at most a third of it."""
        windows = [bucket.period for bucket in buckets if bucket.window]
        if not windows:
            return False
        late = self.clock() - slot
        if late > min(windows) * LATE_SHARE:
            log.debug("outbox: call %.3fs late for its slot; taking a new one", late)
            return True
        return False

    async def _take_followers(self, head: OutboxCall, lease: HeldLease) -> list[OutboxCall]:
        if not can_merge(head):
            return [head]
        limit = self.policy.text_limit(head.platform)
        length_of = self.policy.text_length(head.platform)

        def accept(rows: Sequence[Any]) -> int:
            return mergeable_prefix([head, *rows], limit, length_of) - 1

        started = asyncio.get_running_loop().time()
        now = self._now()
        async with self.session_factory() as session:
            rows = await store.lease_followers(
                session,
                head.id,
                head.lane,
                owner=self.owner_id,
                lease_until=now + timedelta(seconds=self.lease_seconds),
                limit=MAX_MERGE,
                accept=accept,
            )
            followers = [_snapshot(row) for row in rows]
            tokens = {row.id: row.lease_token for row in rows if row.id is not None}
            await session.commit()
        if tokens:
            lease.add(tokens, self.leases.safe_until(started))
        return [head, *followers]

    async def _reserve(
        self, buckets: Sequence[Any], interactive: bool = False, *, ahead: bool = True
    ) -> tuple[float, bool]:
        """(slot, reserved): the call's slot, reserved. Without `ahead`, a slot further than
        `RESERVE_AHEAD` away is only looked at, not reserved (try again then)."""
        if not buckets:
            return self.clock(), True
        async with self.session_factory() as session:
            rows = await store.lock_pacing(session, [b.key for b in buckets])
            states = {key: _state(row) for key, row in rows.items()}
            now = self.clock()
            slot = reserve(
                states,
                buckets,
                now,
                penalty_factor=self.policy.penalty_factor,
                interactive=interactive,
            )
            if not ahead and slot - now > RESERVE_AHEAD:
                await session.rollback()
                return slot, False
            for key, row in rows.items():
                row.next_at = _dt(states[key].next_at)
                row.window_log = dump_log(states[key].log)
            await store.store_pacing(session, rows.values())
            await session.commit()
        return slot, True

    # ---- outcomes --------------------------------------------------------------------------

    async def _on_done(self, head: OutboxCall, held: Held, result: dict[str, Any]) -> None:
        ids = list(held)
        for attempt in range(5):
            try:
                await self._mark_done(held, result, with_handlers=True)
                break
            except _HandlerFailed as failed:
                log.error(
                    "outbox: completion handler of row %s failed",
                    failed.row_id,
                    exc_info=failed.__cause__,
                )
                await self._mark_done(
                    held,
                    result,
                    with_handlers=False,
                    note=f"completion handler failed: {failed.__cause__!r}",
                )
                break
            except Exception:
                log.exception("outbox: could not mark rows %s done (try %d)", list(ids), attempt)
                await asyncio.sleep(0.2 * 2**attempt)
        recovered = self.alarms.delivered(head.id)
        if recovered is not None:
            log.warning(
                "outbox: %s %s recovered: row %s delivered after %.0fs of failures",
                head.platform,
                head.destination,
                head.id,
                self.clock() - recovered.since,
            )
            await self._tell(recovered, stuck=False)
        self.stats.sent += len(ids)
        metrics.SENT.labels(head.platform).inc(len(ids))
        if len(ids) > 1:
            self.stats.merged += len(ids)
            metrics.MERGED.labels(head.platform).inc(len(ids))

    async def _mark_done(
        self,
        held: Held,
        result: dict[str, Any],
        *,
        with_handlers: bool,
        note: str | None = None,
    ) -> None:
        async with self.session_factory() as session:
            rows = await store.mark_done(
                session, held, owner=self.owner_id, result=result, now=self._now(), note=note
            )
            if len(rows) != len(held):
                log.warning(
                    "outbox: lease of rows %s was lost before mark-done (taken over after it "
                    "expired): another worker may send them again",
                    sorted(set(held) - {row.id for row in rows}),
                )
            failure: _HandlerFailed | None = None
            for row in rows if with_handlers else ():
                fn = self.handlers.done.get(row.handler) if row.handler else None
                if fn is not None:
                    try:
                        await fn(session, row, result)
                    except Exception as exc:
                        failure = _HandlerFailed(row.id)
                        failure.__cause__ = exc
                        break
            if failure is None:
                await session.commit()
        if failure is not None:  # the session rolled back on close; mark done without handlers
            raise failure

    async def _on_failed(self, head: OutboxCall, held: Held, exc: PermanentError) -> None:
        reason = exc.reason or str(exc)
        log.warning("outbox: rows %s failed for good: %s", list(held), reason)
        async with self.session_factory() as session:
            rows = await store.mark_failed(
                session, held, owner=self.owner_id, reason=reason, now=self._now()
            )
            for row in rows:
                fn = self.handlers.failed.get(row.handler) if row.handler else None
                if fn is not None:
                    await fn(session, row, exc)
            await session.commit()
        self.alarms.gave_up(head.id)
        self.stats.failed += len(held)
        metrics.FAILED.labels(head.platform).inc(len(held))

    async def _on_lease_lost(self, head: OutboxCall, held: Held, exc: LeaseLost) -> None:
        """The call was stopped (or never started) because the rows may be another worker's.

        Taken over: nothing is recorded (the other holder owns the outcome). Not confirmed in
        time: the rows go back to pending if they are still this lease's once the database
        answers (the fencing token decides), else they expire and are leased again."""
        self.stats.retried += 1
        metrics.RETRIED.labels(head.platform, "lease").inc()
        if exc.taken:
            log.info("outbox: %s; not recorded here", exc)
            return
        log.warning("outbox: %s; call cancelled before the lease could expire", exc)
        await self._give_back(held, None, f"call stopped: {exc}", None)

    async def _on_retry_after(self, head: OutboxCall, held: Held, exc: RetryAfter) -> None:
        seconds = max(0.0, exc.seconds)
        log.warning("outbox: %s %s asked to wait %.1fs", head.platform, head.destination, seconds)
        self.stats.rate_limited += 1
        metrics.RATE_LIMITED.labels(head.platform).inc()
        now = self.clock()
        buckets = self.policy.buckets_for(head.platform, head.destination, head.payload)
        async with self.session_factory() as session:
            if buckets:
                own = buckets[0]
                rows = await store.lock_pacing(session, [own.key])
                state = _state(rows[own.key])
                penalize(
                    state,
                    own,
                    now,
                    seconds,
                    self.policy.penalty_window,
                    penalty_factor=self.policy.penalty_factor,
                )
                rows[own.key].next_at = _dt(state.next_at)
                rows[own.key].penalty_until = _dt(state.penalty_until)
                await store.store_pacing(session, rows.values())
            await store.release(
                session,
                held,
                owner=self.owner_id,
                not_before=_dt(now + seconds),
                error=f"retry after {seconds:g}s: {exc.description or exc}",
                count_attempt_of=head.id,
            )
            await session.commit()
        self.stats.retried += 1
        metrics.RETRIED.labels(head.platform, "retry_after").inc()

    async def _on_transient(
        self, head: OutboxCall, held: Held, error: str, reason: str = "transient"
    ) -> None:
        attempts = head.attempts + 1
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempts - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter: processes do not retry in lock-step
        now = self.clock()
        alarmed, stuck = self.alarms.failed(
            head.id, head.platform, head.destination, head.conversation_id, error, now
        )
        if alarmed:
            log.error(
                "outbox ALARM: row %s to %s %s failing for %.0fs (%d tries: %s); still retrying",
                head.id,
                head.platform,
                head.destination,
                self.alarms.failing_for(head.id, now),
                attempts,
                error,
            )
        else:
            log.info(
                "outbox: row %s transient failure (%s); retry in %.2fs", head.id, error, delay
            )
        await self._give_back(held, self.clock() + delay, error, head.id)
        self.stats.retried += 1
        metrics.RETRIED.labels(head.platform, reason).inc()
        if stuck is not None:
            await self._tell(stuck, stuck=True)

    async def _tell(self, alarm: StuckDestination, *, stuck: bool) -> None:
        """Let the listener tell the operators (in a transaction of its own); never raises."""
        metrics.ALARMS.labels(alarm.platform, "raised" if stuck else "recovered").inc()
        if self.alarm is None:
            return
        try:
            async with self.session_factory() as session:
                if stuck:
                    await self.alarm.stuck(session, alarm, self.clock())
                else:
                    await self.alarm.recovered(session, alarm, self.clock())
                await session.commit()
        except Exception:
            log.exception("outbox: could not tell the operators about %s", alarm.destination)
            return
        self.wake()

    async def _give_back(
        self,
        held: Held,
        not_before: float | None,
        error: str | None,
        count_attempt_of: int | None,
        *,
        until_reachable: bool = True,
    ) -> None:
        """Release `held` (fenced: only rows still this lease's token go back to pending).

        When the database cannot be reached (a restart, a failover), try again with backoff
        as soon as it may answer, for up to a lease, so the rows are sent again in seconds
        rather than after their lease runs out; a stopping worker does not wait. A release
        that did reach the database is harmless to repeat. Failing that, the lease expires on
        its own: nothing is lost."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease_seconds
        delay = min(0.5, self.lease_seconds / 20)
        while True:
            try:
                async with asyncio.timeout(max(1.0, 4 * delay)), self.session_factory() as session:
                    await store.release(
                        session,
                        held,
                        owner=self.owner_id,
                        not_before=_dt(not_before) if not_before is not None else None,
                        error=error,
                        count_attempt_of=count_attempt_of,
                    )
                    await session.commit()
                return
            except Exception as exc:
                unreachable = isinstance(exc, TimeoutError) or database_unavailable(exc)
                if (
                    not until_reachable
                    or not unreachable
                    or self._stopping
                    or loop.time() + delay > deadline
                ):
                    log.warning(
                        "outbox: could not release rows %s (%s); their lease expires on its own",
                        list(held),
                        exc,
                    )
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _now(self) -> datetime:
        return _dt(self.clock())


class _HandlerFailed(Exception):
    def __init__(self, row_id: int | None) -> None:
        super().__init__(f"handler of row {row_id} failed")
        self.row_id = row_id


def _snapshot(row: Any) -> OutboxCall:
    return OutboxCall(
        id=row.id,
        created_at=row.created_at,
        platform=row.platform,
        destination=row.destination,
        lane=row.lane,
        kind=row.kind,
        payload=row.payload,
        attempts=row.attempts,
        coalesce_key=row.coalesce_key,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        merged_ids=(row.id,),
        handler=row.handler,
        priority=row.priority,
    )


def _state(row: Any) -> BucketState:
    return BucketState(
        next_at=row.next_at.timestamp(),
        penalty_until=row.penalty_until.timestamp() if row.penalty_until else 0.0,
        log=load_log(row.window_log),
    )


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
