"""The sink's batched entry point: inbound messages through one group commit.

A platform whose updates arrive fast (Telegram customers: every webhook or polled update a
message) reports here instead of `BridgeSink.inbound`: each caller waits until the transaction
that stored its message, with the platform's update id marked processed, has committed;
messages that arrive while a commit is under way are stored together by the next one
(bridge/core/group_commit.py, bridge/core/inbound_batch.py). A failed batch is stored again
event by event, so one bad update never holds back another.

The sink's rules apply as on its one-by-one path: `check_event` refuses an event the core
cannot store, a customer who writes is reachable again, a guest's name is looked up later.

Every other channel (VK, Viber, Facebook, the site widget) reaches the same group commit
through `BridgeSink.inbound` once the sink `use_batches` an `InboundBatches` (app/wiring.py):
concurrent webhooks then share commits. Their messages carry no update id of the sink's own;
the message's external id dedupes them as on the one-by-one path. A webhook whose platform
event id must be recorded as processed with its message (VK's Callback API) says so with
`processed_as(source, event_id)` around its work: the id is marked in the message's
transaction, not in one of its own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.components import ComponentState
from bridge.core.group_commit import GroupCommit, Outcome
from bridge.core.inbound import DuplicateInbound, InboundResult, handle_inbound
from bridge.core.inbound_batch import handle_inbound_batch
from storage.outbox import enqueued_in
from storage.state import mark_event_processed, mark_events_processed

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.adapter import StoredInbound
    from bridge.core.sink import BridgeSink
    from bridge.events import Inbound

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchedInbound:
    """A message, its group, and the id of the platform update that brought it (with the
    processed-events source it is recorded under; None: the message's own id dedupes it)."""

    update_id: int | str | None
    event: Inbound
    group: str
    source: str | None = None


@dataclass(slots=True)
class ProcessedAs:
    """A platform event id to record as processed with the message it brings."""

    source: str
    event_id: str
    recorded: bool = False


_PROCESSED_AS: ContextVar[ProcessedAs | None] = ContextVar("processed_as", default=None)


@contextlib.contextmanager
def processed_as(source: str, event_id: str) -> Iterator[ProcessedAs]:
    """Within the block, the first message stored through the batches records `event_id` under
    `source` in its own transaction (then `.recorded` is True; a repeat is dropped)."""
    mark = ProcessedAs(source, event_id)
    token = _PROCESSED_AS.set(mark)
    try:
        yield mark
    finally:
        _PROCESSED_AS.reset(token)


class InboundBatches:
    """`BridgeSink.inbound` through a group commit; `start()` / `stop()` with its platform.

    `source` names the platform's update ids in the processed-events table (the Telegram
    desk's own updates share it: each update goes to exactly one of them).
    """

    name = "ingest"

    def __init__(self, sink: BridgeSink, source: str) -> None:
        self.sink = sink
        self.source = source
        self.committer: GroupCommit[BatchedInbound, InboundResult] | None = None
        self._enqueued = False  # the batch being committed added outbox rows

    @property
    def running(self) -> bool:
        return self.committer is not None

    def state(self) -> ComponentState:
        if self.committer is None:
            return ComponentState("stopped")
        stats = self.committer.stats
        return ComponentState("running", f"{stats.events} messages in {stats.batches} commits")

    async def start(self) -> None:
        runtime = self.sink.runtime
        self.committer = GroupCommit(
            lambda: runtime.sessions(),
            self._store_one,
            handle_batch=self._store_batch,
            on_commit=self._committed,
        )
        await self.committer.start()

    async def stop(self) -> None:
        if self.committer is not None:
            stats = self.committer.stats
            log.info(
                "%s inbound: %d messages in %d commits (largest %d); %d batches redone alone",
                self.source,
                stats.events,
                stats.batches,
                stats.largest_batch,
                stats.commit_failures,
            )
            await self.committer.stop()
            self.committer = None

    async def inbound(self, event: Inbound, update_id: int | str | None = None) -> bool:
        """Store the message; returns once committed (False for a repeat or a refused event).

        `update_id`: the platform update's id under `source` (None: only the message's id
        dedupes it, or the id `processed_as` names). Raises what storing it raised (the
        caller's update is then retried or refused).
        """
        return await self.inbound_stored(event, update_id) is not None

    async def inbound_stored(
        self, event: Inbound, update_id: int | str | None = None
    ) -> StoredInbound | None:
        """`inbound`, saying which message was stored (None: a repeat or a refused event)."""
        assert self.committer is not None, "InboundBatches.start() first"
        group = self.sink.admit(event)
        if group is None:
            return None
        source: str | None = self.source
        mark = _PROCESSED_AS.get() if update_id is None else None
        if mark is not None and not mark.recorded:
            source, update_id = mark.source, mark.event_id
        elif update_id is None:
            source = None
        try:
            result = await self.committer.submit(BatchedInbound(update_id, event, group, source))
        except DuplicateInbound:
            log.debug("inbound %s:%s stored concurrently", event.channel, event.external_id)
            result = InboundResult("duplicate")
        if source is not None and mark is not None:
            mark.recorded = True
        return self.sink.receipt(event, result)

    def _committed(self) -> None:
        # Most messages into a new conversation change only rows the worker already knows
        # about; waking it for nothing would cost a leasing transaction per commit.
        if self._enqueued:
            self._enqueued = False
            self.sink.runtime.wake()

    async def _store_one(self, session: AsyncSession, item: BatchedInbound) -> InboundResult:
        try:
            if (
                item.source is not None
                and item.update_id is not None
                and not await mark_event_processed(session, item.source, item.update_id)
            ):
                return InboundResult("duplicate")
            result = await handle_inbound(
                session,
                item.event,
                group=item.group,
                desk=self.sink.runtime.desk,
                hours=self.sink.hours_now(item.group),
                ratings=self.sink.ratings,
            )
            await self.sink.settle(session, item.event, result)
            return result
        finally:
            self._enqueued = self._enqueued or enqueued_in(session)

    async def _store_batch(
        self, session: AsyncSession, items: list[BatchedInbound]
    ) -> list[Outcome[InboundResult]]:
        by_source: dict[str, list[int | str]] = {}
        for item in items:
            if item.source is not None and item.update_id is not None:
                by_source.setdefault(item.source, []).append(item.update_id)
        fresh = {
            (source, event_id)
            for source, ids in by_source.items()
            for event_id in await mark_events_processed(session, source, ids)
        }
        todo: dict[str, list[int]] = {}  # by group
        for index, item in enumerate(items):
            if item.source is not None and item.update_id is not None:
                key = (item.source, str(item.update_id))
                if key not in fresh:
                    continue
                fresh.discard(key)  # a second copy of an update in the same batch is a repeat
            todo.setdefault(item.group, []).append(index)
        outcomes = [Outcome(InboundResult("duplicate")) for _ in items]
        for group, indexes in todo.items():
            stored = await handle_inbound_batch(
                session,
                [items[i].event for i in indexes],
                group=group,
                desk=self.sink.runtime.desk,
                hours=self.sink.hours_now(group),  # once per group and batch
                ratings=self.sink.ratings,
            )
            for index, result in zip(indexes, stored, strict=True):
                await self.sink.settle(session, items[index].event, result)
                outcomes[index] = Outcome(result)
        self._enqueued = self._enqueued or enqueued_in(session)
        return outcomes
