"""Telegram customers' private messages into the core through one group commit.

Every webhook (or polled update) with a customer's message waits here until the transaction
that stored it, with the update id marked processed, has committed; updates that arrive
while a commit is under way are stored together by the next one
(bridge/core/group_commit.py, bridge/core/inbound_batch.py). A failed batch is stored again
event by event, so one bad update never holds back another.
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

    from bridge.events import Inbound
    from desk.runtime import DeskRuntime

log = logging.getLogger(__name__)

#: The processed-events source of Telegram update ids (shared with desk/routers.py).
SOURCE = "telegram"


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    """A customer's message and the id of the Telegram update that brought it."""

    update_id: int
    event: Inbound


class CustomerIntake:
    """Stores customers' messages for the desk's router; `start()` / `stop()` with the intake."""

    def __init__(self, runtime: DeskRuntime) -> None:
        self.runtime = runtime
        self.committer: GroupCommit[CustomerUpdate, InboundResult] | None = None
        self._enqueued = False  # the batch being committed added outbox rows

    @property
    def group(self) -> str:
        """The group of Telegram customers (asked only when one writes: the channel may be off)."""
        return self.runtime.config.group_name_for_channel("telegram")

    async def start(self) -> None:
        self.committer = GroupCommit(
            self.runtime.sessions,
            self._store_one,
            handle_batch=self._store_batch,
            on_commit=self._committed,
        )
        await self.committer.start()

    async def stop(self) -> None:
        if self.committer is not None:
            stats = self.committer.stats
            log.info(
                "customer intake: %d messages in %d commits (largest %d); %d batches redone alone",
                stats.events,
                stats.batches,
                stats.largest_batch,
                stats.commit_failures,
            )
            await self.committer.stop()
            self.committer = None

    async def submit(self, update_id: int, event: Inbound) -> InboundResult:
        """Store the message; returns once committed ("duplicate" for an update seen before).

        Raises what storing it raised (the caller's update is then retried or refused).
        """
        assert self.committer is not None, "CustomerIntake.start() first"
        try:
            return await self.committer.submit(CustomerUpdate(update_id, event))
        except DuplicateInbound:
            log.debug("duplicate customer message %s dropped", event.external_id)
            return InboundResult("duplicate")

    def _committed(self) -> None:
        # Most messages into a new conversation change only rows the worker already knows
        # about; waking it for nothing would cost a leasing transaction per commit.
        if self._enqueued:
            self._enqueued = False
            self.runtime.wake()

    async def _store_one(self, session: AsyncSession, item: CustomerUpdate) -> InboundResult:
        try:
            if not await mark_event_processed(session, SOURCE, item.update_id):
                return InboundResult("duplicate")
            return await handle_inbound(
                session, item.event, group=self.group, desk=self.runtime.desk
            )
        finally:
            self._enqueued = self._enqueued or enqueued_in(session)

    async def _store_batch(
        self, session: AsyncSession, items: list[CustomerUpdate]
    ) -> list[Outcome[InboundResult]]:
        fresh = await mark_events_processed(session, SOURCE, [item.update_id for item in items])
        todo: list[int] = []
        for index, item in enumerate(items):
            key = str(item.update_id)
            if key in fresh:
                fresh.discard(key)  # a second copy of an update in the same batch is a repeat
                todo.append(index)
        outcomes = [Outcome(InboundResult("duplicate")) for _ in items]
        stored = await handle_inbound_batch(
            session, [items[i].event for i in todo], group=self.group, desk=self.runtime.desk
        )
        for index, result in zip(todo, stored, strict=True):
            outcomes[index] = Outcome(result)
        self._enqueued = self._enqueued or enqueued_in(session)
        return outcomes
