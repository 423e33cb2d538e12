"""Telegram updates in: getUpdates polling, or `POST /webhooks/telegram`, into one Dispatcher.

One bot serves both Telegram sides: the operators' desk (desk/routers/) and the Telegram
customers (adapters/telegram/). The composition root installs each side's aiogram routers on
`dispatcher` (their dependencies as the dispatcher's workflow data: `dispatcher["runtime"]`,
handed to handlers by parameter name), its direct handlers (`add_direct`) and the parts that
start and stop with the intake (`add_part`). A direct handler sees an update before the
Dispatcher and takes it by returning True: new private messages, most of the bot's updates,
skip aiogram's generic dispatch (middlewares, observers, a filter per handler), which cost
about a third of a webhook's time under load (docs/performance.md).

Polling saves the offset (kv `telegram:offset`) only after an update's effects are committed;
each handler also records the update id as processed in its own transaction, so an update seen
twice (a crash between the two commits, a redelivered webhook) has its effects once.
The webhook checks `X-Telegram-Bot-Api-Secret-Token`: a wrong or missing secret gets 403 and
nothing is stored; 200 is answered only after the update's effects are committed.

Polling is a leader-only duty (bridge/leader.py): when several processes share PostgreSQL, only
the leader calls getUpdates, and a standby takes over when it stops. Webhooks are served by
every process.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import Dispatcher
from aiogram.types import Update
from aiohttp import web

from bridge.components import ComponentState
from storage.state import kv_get, kv_set

if TYPE_CHECKING:
    from aiogram import Bot
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.leader import Leader
    from config import BridgeConfig

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram:offset"
#: The processed-events source of Telegram update ids: the desk's handlers and the Telegram
#: customers' record each update they take under it (an update goes to exactly one of them).
UPDATE_SOURCE = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram"
#: Tries of one update before it is given up (logged with its traceback).
UPDATE_TRIES = 3
#: The leader duty's name.
POLL_DUTY = "telegram:getUpdates"

#: Sees an update before the Dispatcher; True when it took the update.
DirectHandler = Callable[[Update], Awaitable[bool]]


class Part(Protocol):
    """Something that lives as long as the intake (e.g. the customers' group commit)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class UpdatesRuntime(Protocol):
    """What the intake needs of the running service: the bot, the database, the leader."""

    config: BridgeConfig
    bot: Bot
    leader: Leader
    sessions: Any

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class UpdatesIntake:
    """A component: feeds Telegram updates to the direct handlers, then to the Dispatcher."""

    name = "channel:telegram"

    def __init__(self, runtime: UpdatesRuntime, *, poll_timeout: int = 10) -> None:
        self.runtime = runtime
        self.poll_timeout = poll_timeout
        self.dispatcher = Dispatcher(disable_fsm=True)  # no conversation states kept in aiogram
        self._direct: list[DirectHandler] = []
        self._parts: list[Part] = []
        self._started = False
        self._state = ComponentState("stopped")
        self.handled = 0

    @property
    def polling(self) -> bool:
        return self.runtime.config.telegram.updates == "polling"

    def add_direct(self, handler: DirectHandler) -> None:
        """Offer every update to `handler` first (in the order added)."""
        self._direct.append(handler)

    def add_part(self, part: Part) -> None:
        """Start `part` before updates flow and stop it after they stopped."""
        self._parts.append(part)

    async def start(self) -> None:
        for part in self._parts:
            await part.start()
        self._state = ComponentState("running")
        if self.polling:
            await self.runtime.bot.delete_webhook(drop_pending_updates=False)
            await self.runtime.leader.add_duty(POLL_DUTY, self._poll)
        self._started = True

    async def stop(self) -> None:
        if self._started and self.polling:
            await self.runtime.leader.remove_duty(POLL_DUTY)
        self._started = False
        self._state = ComponentState("stopped")
        for part in reversed(self._parts):
            await part.stop()

    def state(self) -> ComponentState:
        if self._state.state == "running" and self.polling and not self.is_polling:
            return ComponentState("running", "standby: another process polls (not the leader)")
        return self._state

    @property
    def is_polling(self) -> bool:
        """Whether this process runs getUpdates now (it is the leader)."""
        return POLL_DUTY in self.runtime.leader.running_duties()

    def routes(self) -> list[web.AbstractRouteDef]:
        if self.polling:
            return []
        return [web.post(WEBHOOK_PATH, self._webhook)]

    async def feed(self, update: Update) -> bool:
        """Handle one update (by a direct handler, else through the Dispatcher); retried a
        few times, then logged and dropped."""
        for attempt in range(1, UPDATE_TRIES + 1):
            try:
                if not await self._direct_handled(update):
                    await self.dispatcher.feed_update(self.runtime.bot, update)
                self.handled += 1
                return True
            except Exception:
                if attempt == UPDATE_TRIES:
                    log.exception("update %s failed %d times; skipped", update.update_id, attempt)
                    return False
                log.warning("update %s failed; retrying", update.update_id, exc_info=True)
                await asyncio.sleep(0.2 * attempt)
        return False

    async def _direct_handled(self, update: Update) -> bool:
        for handler in self._direct:
            if await handler(update):
                return True
        return False

    async def _poll(self) -> None:
        bot = self.runtime.bot
        async with self.runtime.sessions() as session:
            stored = await kv_get(session, OFFSET_KEY)
        offset = int(stored) if stored else None
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
                self._state = ComponentState("running")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._state = ComponentState("degraded", f"getUpdates failed: {exc}")
                log.warning("getUpdates failed; retrying in 1 s", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for update in updates:
                await self.feed(update)
                offset = update.update_id + 1
                async with self.runtime.transaction() as session:
                    await kv_set(session, OFFSET_KEY, str(offset))

    async def _webhook(self, request: web.Request) -> web.Response:
        expected = self.runtime.config.telegram.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("telegram webhook with a wrong secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.runtime.bot})
        except Exception:
            log.warning("telegram webhook body is not an Update", exc_info=True)
            return web.Response(status=400, text="bad update")
        if not await self.feed(update):
            return web.Response(status=500, text="not processed; send it again")
        return web.Response(text="ok")
