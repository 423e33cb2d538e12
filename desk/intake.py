"""Telegram updates in: getUpdates polling, or `POST /webhooks/telegram`.

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
from typing import TYPE_CHECKING

from aiogram import Dispatcher
from aiogram.types import Update
from aiohttp import web

from bridge.components import ComponentState
from desk.customer_intake import CustomerIntake
from desk.routers import build_router, is_private_message, private_message
from storage.state import kv_get, kv_set

if TYPE_CHECKING:
    from desk.runtime import DeskRuntime

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram:offset"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram"
#: Tries of one update before it is given up (logged with its traceback).
UPDATE_TRIES = 3
#: The leader duty's name.
POLL_DUTY = "telegram:getUpdates"


class UpdatesIntake:
    """A component: feeds Telegram updates to the desk's router (polling or webhook)."""

    name = "channel:telegram"

    def __init__(self, runtime: DeskRuntime, *, poll_timeout: int = 10) -> None:
        self.runtime = runtime
        self.poll_timeout = poll_timeout
        self.dispatcher = Dispatcher(disable_fsm=True)  # no conversation states kept in aiogram
        self.dispatcher.include_router(build_router(runtime))
        self._started = False
        self._state = ComponentState("stopped")
        self.handled = 0

    @property
    def polling(self) -> bool:
        return self.runtime.config.telegram.updates == "polling"

    async def start(self) -> None:
        customers = CustomerIntake(self.runtime)
        await customers.start()
        self.runtime.customer_intake = customers
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
        if (customers := self.runtime.customer_intake) is not None:
            self.runtime.customer_intake = None
            await customers.stop()

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
        """Handle one update (a new private message directly, the rest through the router);
        retried a few times, then logged and dropped."""
        for attempt in range(1, UPDATE_TRIES + 1):
            try:
                if is_private_message(update):
                    assert update.message is not None
                    await private_message(self.runtime, update.message, update)
                else:
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
