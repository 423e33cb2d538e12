"""Group commit of inbound events: many events stored in one transaction, each in a SAVEPOINT.

One transaction per webhook costs one durable commit (an fsync on SQLite, a WAL flush on
PostgreSQL) per message; storage alone then stops near a hundred messages a second. Here the
events that arrive while a commit is under way wait for the next one, and one commit makes a
whole batch durable:

    ingest = GroupCommit(sessions, handle, on_commit=worker.wake)
    await ingest.start()
    result = await ingest.submit(event)   # returns only after the commit that stored `event`

Every event runs in its own SAVEPOINT, so a duplicate or a bad event rolls back only its own
work and its caller gets its own exception; the others commit. With `handle_batch`, a batch is
handed over whole instead (`handle_batch(session, events)` returns one `Outcome` per event),
so set-based statements can store it (bridge/core/inbound_batch.py); `handle` then serves only
the retry of each event alone. If the commit itself fails
(a PostgreSQL deadlock or serialisation failure between processes, a full disk), each event of
the batch is retried alone in its own transaction, so one event never keeps another from
being stored and every caller learns the truth about its own event. A caller acknowledges its
platform only after `submit` returned, which is what keeps an acknowledged event durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

E = TypeVar("E")
R = TypeVar("R")

#: Most events one transaction takes: bounds the time a batch holds SQLite's write lock.
DEFAULT_MAX_BATCH = 200
#: How long the first event of a batch waits for company before the batch starts (seconds).
#: Zero is right for most loads: events that arrive while a commit runs form the next batch.
DEFAULT_LINGER = 0.0


class IngestStopped(RuntimeError):
    """`submit` after `stop()`: the event was not stored (answer the platform with an error)."""


@dataclass(slots=True)
class IngestStats:
    """What the committer has done so far (for benchmarks and /metrics)."""

    events: int = 0
    batches: int = 0
    failed_events: int = 0
    commit_failures: int = 0
    largest_batch: int = 0
    commit_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """What `handle_batch` made of one event: a result, or the error its caller gets."""

    result: R | None = None
    error: BaseException | None = None


@dataclass(slots=True)
class _Pending(Generic[E, R]):
    event: E
    future: asyncio.Future[R] = field(repr=False)


class GroupCommit(Generic[E, R]):
    """Stores events with `handle(session, event)` in shared transactions; see the module doc.

    `handle` runs inside the batch's transaction and a SAVEPOINT of its own; it must not
    commit (the contract of `bridge.core.inbound.handle_inbound`). `on_commit` runs after each
    successful commit (e.g. wake the outbox worker). Events of one batch are handled in the
    order they were submitted.
    """

    def __init__(
        self,
        session_factory: Callable[[], Any],
        handle: Callable[[AsyncSession, E], Awaitable[R]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        linger: float = DEFAULT_LINGER,
        on_commit: Callable[[], None] | None = None,
        handle_batch: Callable[[AsyncSession, list[E]], Awaitable[list[Outcome[R]]]] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if linger < 0:
            raise ValueError(f"linger must be >= 0 seconds, got {linger}")
        self.session_factory = session_factory
        self.handle = handle
        self.handle_batch = handle_batch
        self.max_batch = max_batch
        self.linger = linger
        self.on_commit = on_commit
        self.stats = IngestStats()
        self._queue: asyncio.Queue[_Pending[E, R] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the committing task."""
        if self._task is not None:
            raise RuntimeError("group commit already started")
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="ingest-group-commit")

    async def stop(self) -> None:
        """Store what was submitted before the call, then stop. Never raises."""
        if self._task is None:
            return
        self._stopping = True
        await self._queue.put(None)
        try:
            await self._task
        except Exception:  # _run only ends by the sentinel; a crash is a bug worth a traceback
            log.exception("ingest: the committing task crashed")
        self._task = None
        while not self._queue.empty():  # submitted after the sentinel: refuse them clearly
            pending = self._queue.get_nowait()
            if pending is not None and not pending.future.done():
                pending.future.set_exception(IngestStopped("the bridge is stopping"))

    # ---- the API ---------------------------------------------------------------------------

    async def submit(self, event: E) -> R:
        """Store `event`; returns `handle`'s result once it is committed, or raises its error."""
        if self._task is None or self._stopping:
            raise IngestStopped("group commit is not running")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(event, future))
        return await asyncio.shield(future)  # a cancelled caller does not un-store its event

    # ---- the committing task ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            if self.linger > 0:
                await asyncio.sleep(self.linger)
            batch = [first]
            stop_after = False
            while len(batch) < self.max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop_after = True
                    break
                batch.append(nxt)
            await self._commit_batch(batch)
            if stop_after:
                return

    async def _commit_batch(self, batch: list[_Pending[E, R]]) -> None:
        started = time.perf_counter()
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with self.session_factory() as session:
                async with session.begin():
                    if self.handle_batch is not None:
                        events = [pending.event for pending in batch]
                        outcomes = _as_pairs(await self.handle_batch(session, events), len(batch))
                    else:
                        for pending in batch:
                            outcomes.append(await self._one_in_savepoint(session, pending.event))
        except Exception:
            self.stats.commit_failures += 1
            log.warning(
                "ingest: a batch of %d failed to commit; storing each alone",
                len(batch),
                exc_info=True,
            )
            for pending in batch:
                await self._commit_alone(pending)
            return
        self.stats.batches += 1
        self.stats.events += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        self.stats.commit_seconds += time.perf_counter() - started
        self._committed()
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            _settle(pending.future, ok, value)
            if not ok:
                self.stats.failed_events += 1

    async def _one_in_savepoint(self, session: AsyncSession, event: E) -> tuple[bool, Any]:
        try:
            async with session.begin_nested():
                return True, await self.handle(session, event)
        except Exception as exc:  # this event's own failure: its savepoint is rolled back
            return False, exc

    async def _commit_alone(self, pending: _Pending[E, R]) -> None:
        try:
            async with self.session_factory() as session:
                async with session.begin():
                    result = await self.handle(session, pending.event)
        except Exception as exc:
            self.stats.failed_events += 1
            _settle(pending.future, False, exc)
            return
        self.stats.batches += 1
        self.stats.events += 1
        self._committed()
        _settle(pending.future, True, result)

    def _committed(self) -> None:
        if self.on_commit is None:
            return
        try:
            self.on_commit()
        except Exception:  # waking is best effort: the worker polls anyway
            log.exception("ingest: on_commit callback failed")


def _as_pairs(outcomes: list[Outcome[Any]], expected: int) -> list[tuple[bool, Any]]:
    if len(outcomes) != expected:
        raise RuntimeError(f"handle_batch gave {len(outcomes)} outcomes for {expected} events")
    return [(False, o.error) if o.error is not None else (True, o.result) for o in outcomes]


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


@contextlib.asynccontextmanager
async def running(committer: GroupCommit[E, R]) -> AsyncIterator[GroupCommit[E, R]]:
    """`async with running(GroupCommit(...)) as ingest:` starts it and always stops it."""
    await committer.start()
    try:
        yield committer
    finally:
        await committer.stop()
