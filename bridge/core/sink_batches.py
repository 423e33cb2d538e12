"""The sink's batched entry point: inbound messages through one group commit.

A platform whose updates arrive fast (Telegram customers: every webhook or polled update a
message) reports here instead of `BridgeSink.inbound`: each caller waits until the transaction
that stored its message, with the platform's update id marked processed, has committed;
messages that arrive while a commit is under way are stored together by the next one
(bridge/core/group_commit.py, bridge/core/inbound_batch.py). A failed batch is stored again
event by event, so one bad update never holds back another.

The sink's rules apply as on its one-by-one path: `check_event` refuses an event the core
cannot store, a customer who writes is reachable again, a guest's name is looked up later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.core.group_commit import GroupCommit, Outcome
from bridge.core.inbound import DuplicateInbound, InboundResult, handle_inbound
from bridge.core.inbound_batch import handle_inbound_batch
from storage.outbox import enqueued_in
from storage.state import mark_event_processed, mark_events_processed

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.sink import BridgeSink
    from bridge.events import Inbound

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchedInbound:
    """A message, its group, and the id of the platform update that brought it."""

    update_id: int
    event: Inbound
    group: str


class InboundBatches:
    """`BridgeSink.inbound` through a group commit; `start()` / `stop()` with its platform.

    `source` names the platform's update ids in the processed-events table (the Telegram
    desk's own updates share it: each update goes to exactly one of them).
    """

    def __init__(self, sink: BridgeSink, source: str) -> None:
        self.sink = sink
        self.source = source
        self.committer: GroupCommit[BatchedInbound, InboundResult] | None = None
        self._enqueued = False  # the batch being committed added outbox rows

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

    async def inbound(self, event: Inbound, update_id: int) -> bool:
        """Store the message; returns once committed (False for a repeat or a refused event).

        Raises what storing it raised (the caller's update is then retried or refused).
        """
        assert self.committer is not None, "InboundBatches.start() first"
        group = self.sink.admit(event)
        if group is None:
            return False
        try:
            result = await self.committer.submit(BatchedInbound(update_id, event, group))
        except DuplicateInbound:
            log.debug("inbound %s:%s stored concurrently", event.channel, event.external_id)
            return False
        return self.sink.stored(event, result)

    def _committed(self) -> None:
        # Most messages into a new conversation change only rows the worker already knows
        # about; waking it for nothing would cost a leasing transaction per commit.
        if self._enqueued:
            self._enqueued = False
            self.sink.runtime.wake()

    async def _store_one(self, session: AsyncSession, item: BatchedInbound) -> InboundResult:
        try:
            if not await mark_event_processed(session, self.source, item.update_id):
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
        fresh = await mark_events_processed(
            session, self.source, [item.update_id for item in items]
        )
        todo: dict[str, list[int]] = {}  # by group
        for index, item in enumerate(items):
            key = str(item.update_id)
            if key in fresh:
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
