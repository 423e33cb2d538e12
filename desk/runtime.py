"""What the desk's parts share while the service runs: database, bot, desk, outbox worker.

Opened by the first component that starts and closed by the last that stops, so the outbox
worker, the updates intake and the dashboard use one engine and one aiogram Bot.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bridge.avatars import AvatarService
from bridge.avatars.badges import NO_BADGES, Badges
from bridge.core.desk import Outlets
from bridge.core.platform_names import NO_NAMES, PlatformNames
from bridge.leader import Leader
from desk.feed import FeedDesk

if TYPE_CHECKING:
    from aiogram import Bot
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox import OutboxWorker
    from bridge.outbox.policy import PlatformPacing
    from config import BridgeConfig
    from desk.customer_intake import CustomerIntake

log = logging.getLogger(__name__)

#: Seconds a getChatMember answer is trusted.
MEMBER_CACHE_SECONDS = 60.0
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})


class DeskRuntime:
    """Shared state of the desk's components; `open()` / `close()` are reference-counted."""

    def __init__(
        self,
        config: BridgeConfig,
        *,
        time_scale: float = 1.0,
        badges: Badges = NO_BADGES,
        names: PlatformNames = NO_NAMES,
    ) -> None:
        """`badges` and `names`: how the platforms look to operators (the root's registry)."""
        self.config = config
        self.time_scale = time_scale
        # Cards, and the storm digest (desk/feed.py).
        self.desk = FeedDesk(config, AvatarService(badges=badges), names)
        self.outlets = Outlets()
        #: The outbox's senders of the customer platforms (wiring adds one per channel).
        self.senders: dict[str, Any] = {}
        #: How the customer platforms' calls are paced (wiring adds one per platform family;
        #: the bot's own, "telegram", is always `make_worker`'s: the bot sends those calls).
        self.pacing: dict[str, PlatformPacing] = {}
        self.engine: AsyncEngine | None = None
        self.sessions: Any = None
        self.bot: Bot | None = None
        self.worker: OutboxWorker | None = None
        self.bot_id: int | None = None
        #: Customers' private messages, stored by a group commit (set while the intake runs).
        self.customer_intake: CustomerIntake | None = None
        self._users = 0
        self._members: dict[tuple[int, int], tuple[float, bool]] = {}
        # Leader-only duties (the getUpdates poller, the dashboards); bridge/leader.py.
        interval = 2.0 / max(time_scale, 1.0)
        self.leader = Leader(config.database, retry_interval=interval, check_interval=interval)

    async def open(self) -> None:
        self._users += 1
        if self._users > 1:
            return
        from adapters.telegram.outlet import TelegramOutlet
        from botapi.sender import make_bot
        from desk import completions, customer_side  # noqa: F401 - registers handlers
        from storage.db import create_engine, session_factory
        from storage.migrate import upgrade_async

        await upgrade_async(self.config.database)
        self.engine = create_engine(self.config.database)
        self.sessions = session_factory(self.engine)
        self.bot = make_bot(self.config.telegram.token, str(self.config.telegram.api_url))
        self.bot_id = int(self.config.telegram.token.split(":", 1)[0])
        self.outlets.register("telegram", TelegramOutlet())
        completions.bind(self.desk)

    async def close(self) -> None:
        self._users -= 1
        if self._users > 0:
            return
        from desk import completions

        completions.bind(None)
        if self.bot is not None:
            await self.bot.session.close()
            self.bot = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, then the worker is woken."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
        self.wake()

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def make_worker(self) -> OutboxWorker:
        from botapi.pacing import platform_pacing
        from botapi.sender import TelegramCalls
        from bridge.outbox import OutboxWorker, PacingPolicy

        assert self.bot is not None
        policy = PacingPolicy(
            platforms={**self.pacing, "telegram": platform_pacing(self.config.telegram.limits)},
            time_scale=self.time_scale,
        )
        owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self.worker = OutboxWorker(
            self.sessions,
            {**self.senders, "telegram": TelegramCalls(self.bot)},
            policy,
            owner_id=owner,
            poll_interval=0.2,
            backoff_max=self.config.outbox.max_backoff_seconds,
        )
        return self.worker

    async def is_operator(self, chat_id: int, user_id: int, *, proven_member: bool) -> bool:
        """May `user_id` act in the group `chat_id`? The configured list, else membership.

        `proven_member`: the update itself shows the user in the group (they wrote there).
        Otherwise getChatMember is asked (a read, not a post: it does not use the outbox).
        """
        group = self.config.group_for_chat(chat_id)
        if group is None:
            return False
        if group.operators:
            return user_id in group.operators
        if proven_member:
            return True
        cached = self._members.get((chat_id, user_id))
        now = time.monotonic()
        if cached is not None and now - cached[0] < MEMBER_CACHE_SECONDS:
            return cached[1]
        assert self.bot is not None
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except Exception:  # the answer is "not proven": refuse, and say why in the log
            log.warning("getChatMember(%s, %s) failed", chat_id, user_id, exc_info=True)
            return False
        status = str(getattr(member, "status", ""))
        allowed = status.rsplit(".", 1)[-1].lower() in MEMBER_STATUSES or bool(
            getattr(member, "is_member", False)
        )
        self._members[(chat_id, user_id)] = (now, allowed)
        return allowed

    async def operator_groups_of(self, user_id: int) -> set[str]:
        """The configured groups (names) in which `user_id` may act as an operator."""
        return {
            group.name
            for group in self.config.groups.values()
            if await self.is_operator(group.chat_id, user_id, proven_member=False)
        }
