"""Which operators' groups may have a card waiting for Accept: where the pacing keeps a reserve.

A group's window (botapi/pacing.py) leaves one post of its minute to what an operator waits
for right after pressing Accept (the topic, its history), so that post goes at once even when
the group's budget is spent. That reserve costs a busy group a twentieth of its budget, and it
is only needed where somebody can press Accept: a group with a conversation still new (its
card shown). `CardsWaiting` reads those groups from the database every `interval` seconds
(one small grouped count) and answers the pacing's question per chat id.

Until its first read, and after a failed one, it answers yes for every group: the reserve is
then kept, as before this existed. Each process reads for itself, so with several processes
every worker knows within one interval. A card shown between two reads may see its Accept
find the window full; the next post the window frees is then the reserve's (a few seconds in
a saturated group, which posts evenly: bridge/outbox/pacing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select

from bridge.components import ComponentState
from storage.models import Conversation, ConversationState

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from config import BridgeConfig

log = logging.getLogger(__name__)

#: How often the groups with new conversations are read (seconds, unscaled).
INTERVAL = 2.0


class CardsWaiting:
    """`cards_waiting(chat)` for the pacing, and the component that keeps it current."""

    name = "cards-waiting"

    def __init__(self, config: BridgeConfig, *, time_scale: float = 1.0) -> None:
        self._chats = {name: str(group.chat_id) for name, group in config.groups.items()}
        self.interval = INTERVAL / time_scale
        self.sessions: Callable[[], AsyncSession] | None = None
        #: Chat ids of the groups with a new conversation; None: not known (every group).
        self.waiting: frozenset[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._failed = False

    def __call__(self, chat: str) -> bool:
        """Whether a card may be waiting in the group `chat` (a chat id as a string)."""
        waiting = self.waiting
        return waiting is None or chat in waiting

    async def refresh(self) -> None:
        """Read which groups have a new conversation; on a database error, assume all."""
        if self.sessions is None:
            return
        try:
            async with self.sessions() as session:
                rows = await session.exec(
                    select(Conversation.group, func.count(col(Conversation.id)))
                    .where(col(Conversation.state) == ConversationState.NEW.value)
                    .group_by(col(Conversation.group))
                )
                groups = [group for group, count in rows.all() if count]
        except Exception:
            if not self._failed:
                log.warning("cards waiting: the database could not be read", exc_info=True)
            self._failed = True
            self.waiting = None
            return
        self._failed = False
        # A group no longer in the config keeps the reserve (its chat id is unknown here).
        self.waiting = frozenset(self._chats[g] for g in groups if g in self._chats)

    async def _loop(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def state(self) -> ComponentState:
        if self._task is None:
            return ComponentState("stopped")
        if self._failed:
            return ComponentState("degraded", "the database could not be read")
        return ComponentState("running")
