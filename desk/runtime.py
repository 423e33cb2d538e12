"""What the desk's components share on top of the process's `Runtime`: the bot and the desk.

`DeskRuntime` is made once per service by the composition root (app/wiring.py) with the
service's `bridge.runtime.Runtime`: the database, the worker, the outlets and the leader are
the runtime's; the aiogram Bot, the bot's id, the getChatMember cache and the `FeedDesk` (cards
and the storm digest) are the desk's. It is also the component that closes the Bot's HTTP
session: listed first, it stops last, after the outbox worker sent its last call.
`desk_policy` is the pacing of the Telegram limits and the customer platforms' rates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from botapi.sender import make_bot
from bridge.avatars import AvatarService
from bridge.avatars.badges import NO_BADGES, Badges
from bridge.components import ComponentState
from bridge.core.platform_names import NO_NAMES, PlatformNames
from desk.feed import FeedDesk
from desk.throttle import Throttle

if TYPE_CHECKING:
    from aiogram import Bot
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Outlets
    from bridge.dead_letters import DeadLetters
    from bridge.leader import Leader
    from bridge.runtime import Runtime
    from config import BridgeConfig
    from desk.cards_waiting import CardsWaiting

log = logging.getLogger(__name__)

#: /history answers an operator may ask for: a burst, then this many a minute.
HISTORY_BURST = 3
HISTORY_PER_MINUTE = 3.0

#: Seconds a getChatMember answer is trusted.
MEMBER_CACHE_SECONDS = 60.0
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})


class DeskRuntime:
    """The desk's share of one service: its config, bot, desk and membership cache.

    A component (name "telegram-bot") whose stop closes the Bot's HTTP session.
    """

    name = "telegram-bot"

    def __init__(
        self,
        runtime: Runtime,
        config: BridgeConfig,
        *,
        badges: Badges = NO_BADGES,
        names: PlatformNames = NO_NAMES,
    ) -> None:
        """`badges` and `names`: how the platforms look to operators (the root's registry)."""
        self.runtime = runtime
        self.config = config
        self.time_scale = runtime.time_scale
        # Cards, and the storm digest (desk/feed.py).
        self.desk = FeedDesk(config, AvatarService(badges=badges), names)
        self.bot: Bot = make_bot(config.telegram.token, str(config.telegram.api_url))
        self.bot_id = int(config.telegram.token.split(":", 1)[0])
        #: (chat, user) → (when asked, status, is_member): one getChatMember answers both
        #: "may act here" and "administrator here" for MEMBER_CACHE_SECONDS.
        self._members: dict[tuple[int, int], tuple[float, str, bool]] = {}
        #: /history per operator (each answer is a post in the group's budget).
        self.history_limit = Throttle(HISTORY_PER_MINUTE, HISTORY_BURST)
        #: Which groups keep the pacing's reserve for Accept (the root sets and starts it).
        self.cards_waiting: CardsWaiting | None = None
        self._running = False

    # ---- the runtime's parts the desk uses -------------------------------------------------

    @property
    def outlets(self) -> Outlets:
        return self.runtime.outlets

    @property
    def dead_letters(self) -> DeadLetters:
        return self.runtime.dead_letters

    @property
    def leader(self) -> Leader:
        return self.runtime.leader

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.runtime.sessions

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The runtime's transaction (committed, then the worker woken)."""
        async with self.runtime.transaction() as session:
            yield session

    def wake(self) -> None:
        self.runtime.wake()

    # ---- Component -------------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        await self._check_private_topics()

    async def _check_private_topics(self) -> None:
        """`mode: private` needs the bot's threaded mode: say what to switch on if it is off."""
        private = [g.name for g in self.config.groups.values() if g.mode == "private"]
        if not private:
            return
        try:
            me = await self.bot.me()
        except Exception:
            log.warning(
                "getMe failed: cannot check threaded mode for mode: private", exc_info=True
            )
            return
        if not me.has_topics_enabled:
            log.warning(
                "groups %s use mode: private, but the bot has no topics in private chats: "
                "switch on Threaded mode for @%s in @BotFather (Bot Settings), then restart; "
                "until then Accept there is refused with that advice",
                ", ".join(private),
                me.username,
            )

    async def stop(self) -> None:
        self._running = False
        await self.bot.session.close()

    def state(self) -> ComponentState:
        return ComponentState("running" if self._running else "stopped")

    # ---- operators -------------------------------------------------------------------------

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
        found = await self._member(chat_id, user_id)
        if found is None:  # the answer is "not proven": refuse
            return False
        status, is_member = found
        return status in MEMBER_STATUSES or is_member

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """May `user_id` override claims in the group `chat_id`? Listed in the group's `admins`,
        or an administrator (or the creator) of the Telegram group, by getChatMember."""
        group = self.config.group_for_chat(chat_id)
        if group is None:
            return False
        if user_id in group.admins:
            return True
        found = await self._member(chat_id, user_id)
        return found is not None and found[0] in ADMIN_STATUSES

    async def _member(self, chat_id: int, user_id: int) -> tuple[str, bool] | None:
        """(status, is_member) of `user_id` in `chat_id` by getChatMember, cached for
        MEMBER_CACHE_SECONDS; None when the call failed (not cached: asked again next time)."""
        cached = self._members.get((chat_id, user_id))
        now = time.monotonic()
        if cached is not None and now - cached[0] < MEMBER_CACHE_SECONDS:
            return cached[1], cached[2]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except Exception:
            log.warning("getChatMember(%s, %s) failed", chat_id, user_id, exc_info=True)
            return None
        status = str(getattr(member, "status", "")).rsplit(".", 1)[-1].lower()
        is_member = bool(getattr(member, "is_member", False))
        self._members[(chat_id, user_id)] = (now, status, is_member)
        return status, is_member

    async def operator_groups_of(self, user_id: int) -> set[str]:
        """The configured groups (names) in which `user_id` may act as an operator."""
        return {
            group.name
            for group in self.config.groups.values()
            if await self.is_operator(group.chat_id, user_id, proven_member=False)
        }
