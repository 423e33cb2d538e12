"""Telegram updates in: getUpdates polling, or `POST /webhooks/telegram`, into one Dispatcher.

One bot serves both Telegram sides: the operators' desk (desk/routers/) and the Telegram
customers (adapters/telegram/). The composition root installs each side's aiogram routers on
`dispatcher` (their dependencies as the dispatcher's workflow data: `dispatcher["runtime"]`,
handed to handlers by parameter name), its direct handlers (`add_direct`) and the parts that
start and stop with the intake (`add_part`). A direct handler sees an update before the
Dispatcher and takes it by returning True: new private messages, most of the bot's updates,
skip aiogram's generic dispatch (middlewares, observers, a filter per handler), which cost
about a third of a webhook's time under load (docs/performance.md).

Polling hands the updates of one getUpdates over together (so the Telegram customers' messages
among them share one group commit), one chat's updates in order, and saves the offset (kv
`telegram:offset`) only after every one of them is stored or kept as a dead letter; each handler
also records the update id as processed in its own transaction, so an update seen twice (a crash
between the two commits, a redelivered webhook) has its effects once. A transient failure (the
database unreachable) is retried for as long as it takes, with backoff, while the component
reports "degraded"; an update that fails deterministically is kept as a dead letter
(bridge/dead_letters.py) and the offset moves past it.
The webhook checks `X-Telegram-Bot-Api-Secret-Token`: a wrong or missing secret gets 403 and
nothing is stored; 200 is answered only after the update's effects are committed, or once it
was kept as a dead letter; a transient failure answers 503 and Telegram delivers it again.

Telegram may restart update ids after a week without updates (the next id is then random, and
may be lower than the stored offset, or equal to an id processed long ago). Polling sends no
offset once no update came for `RESTART_IDLE` (every earlier update was confirmed by then), and
processed ids count only for storage.state.PROCESSED_SCOPE, so a reused id is a new update.

Polling is a leader-only duty (bridge/leader.py): when several processes share PostgreSQL, only
the leader calls getUpdates, and a standby takes over when it stops. Webhooks are served by
every process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update
from aiohttp import web

from bridge.components import ComponentState
from bridge.dead_letters import Verdict, backoff
from bridge.web.untrusted import parse_json, same_secret
from storage.state import kv_get_with_time, kv_set
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from aiogram import Bot
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.dead_letters import DeadLetters
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
#: No update for this long and Telegram may restart update ids: poll without the offset.
RESTART_IDLE = timedelta(days=6)
#: The bot's own faults that pass (a handler that calls Telegram itself).
TELEGRAM_TRANSIENT: tuple[type[BaseException], ...] = (
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
)
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

    @property
    def config(self) -> BridgeConfig: ...

    @property
    def bot(self) -> Bot: ...

    @property
    def leader(self) -> Leader: ...

    @property
    def sessions(self) -> Any: ...

    @property
    def dead_letters(self) -> DeadLetters: ...

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class UpdatesIntake:
    """A component: feeds Telegram updates to the direct handlers, then to the Dispatcher."""

    name = "channel:telegram"

    def __init__(
        self,
        runtime: UpdatesRuntime,
        *,
        poll_timeout: int = 10,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.runtime = runtime
        self.poll_timeout = poll_timeout
        self.clock = clock
        self.dispatcher = Dispatcher(disable_fsm=True)  # no conversation states kept in aiogram
        self._direct: list[DirectHandler] = []
        self._parts: list[Part] = []
        self._parts_started = False
        self._started = False
        self._state = ComponentState("stopped")
        #: Updates waiting for the database now, with the latest error (update id → text).
        self._waiting: dict[int, str] = {}
        self.handled = 0

    @property
    def polling(self) -> bool:
        return self.runtime.config.telegram.updates == "polling"

    def add_direct(self, handler: DirectHandler, *, first: bool = False) -> None:
        """Offer every update to `handler` before the Dispatcher (in the order added; `first`:
        before every handler added so far)."""
        if first:
            self._direct.insert(0, handler)
        else:
            self._direct.append(handler)

    def add_part(self, part: Part) -> None:
        """Start `part` before updates flow and stop it after they stopped."""
        self._parts.append(part)

    async def start(self) -> None:
        await self._start_parts()
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
        if self._parts_started:
            self._parts_started = False
            for part in reversed(self._parts):
                await part.stop()

    async def _start_parts(self) -> None:
        if self._parts_started:
            return
        for part in self._parts:
            await part.start()
        self._parts_started = True

    def state(self) -> ComponentState:
        if self._state.state == "running" and self._waiting:
            update_id, error = next(iter(self._waiting.items()))
            return ComponentState(
                "degraded",
                f"{len(self._waiting)} update(s) wait for the database (update {update_id}: "
                f"{error}); retried until stored",
            )
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

    # ---- handling one update ----------------------------------------------------------------

    async def handle(self, update: Update) -> None:
        """Handle one update once (a direct handler, else the Dispatcher); raises its failure."""
        if not await self._direct_handled(update):
            await self.dispatcher.feed_update(self.runtime.bot, update)
        self.handled += 1

    async def feed(self, update: Update, payload: str | None = None) -> Verdict:
        """Handle an update within a request: HANDLED, KEPT (failed for good: a dead letter),
        or RETRY (a transient failure: nothing stored, let Telegram send it again)."""
        return await self.runtime.dead_letters.in_request(
            UPDATE_SOURCE,
            str(update.update_id),
            payload if payload is not None else update_json(update),
            lambda: self.handle(update),
            extra_transient=TELEGRAM_TRANSIENT,
        )

    async def settle(self, update: Update) -> bool:
        """Handle a polled update until it is stored (True) or kept as a dead letter (False);
        a transient failure is retried for as long as it takes."""

        def waiting(error: BaseException | None) -> None:
            if error is None:
                self._waiting.pop(update.update_id, None)
            else:
                self._waiting[update.update_id] = f"{type(error).__name__}: {error}"[:200]

        try:
            return await self.runtime.dead_letters.until_settled(
                UPDATE_SOURCE,
                str(update.update_id),
                update_json(update),
                lambda: self.handle(update),
                extra_transient=TELEGRAM_TRANSIENT,
                on_transient=waiting,
            )
        finally:
            self._waiting.pop(update.update_id, None)

    async def settle_batch(self, updates: list[Update]) -> None:
        """Settle the updates of one getUpdates together: each chat's in order, the chats at
        once, so the Telegram customers' new messages among them share a group commit."""
        chains: dict[int | None, list[Update]] = {}
        for update in updates:
            chains.setdefault(chat_of(update), []).append(update)

        async def settle_chain(chain: list[Update]) -> None:
            for update in chain:
                await self.settle(update)

        await asyncio.gather(*(settle_chain(chain) for chain in chains.values()))

    async def replay(self, payload: str) -> None:
        """Feed a dead letter's update again (`talker-bridge dead-letters replay`); raises
        what handling it raised."""
        await self._start_parts()
        update = Update.model_validate(json.loads(payload), context={"bot": self.runtime.bot})
        await self.handle(update)

    async def _direct_handled(self, update: Update) -> bool:
        for handler in self._direct:
            if await handler(update):
                return True
        return False

    # ---- polling -----------------------------------------------------------------------------

    async def _poll(self) -> None:
        bot = self.runtime.bot
        offset, last_update_at = await self._load_offset()
        failures = 0
        told = False
        while True:
            ask = offset
            if offset is not None and self.clock() - last_update_at > RESTART_IDLE:
                # Telegram may have restarted update ids; every earlier update is confirmed.
                if not told:
                    told = True
                    log.info(
                        "no Telegram update since %s: polling without an offset in case "
                        "update ids restarted",
                        last_update_at.isoformat(timespec="seconds"),
                    )
                ask = None
            try:
                updates = await bot.get_updates(
                    offset=ask, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
                failures = 0
                if self._state.state == "degraded":
                    self._state = ComponentState("running")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = backoff(failures, 1.0)
                self._state = ComponentState("degraded", f"getUpdates failed: {exc}")
                log.warning("getUpdates failed; retrying in %.0f s", delay, exc_info=True)
                await asyncio.sleep(delay)
                continue
            if not updates:
                continue
            newest = max(update.update_id for update in updates)
            if offset is not None and newest < offset:
                log.warning(
                    "Telegram update ids restarted (got %d, the offset was %d)", newest, offset
                )
            await self.settle_batch(list(updates))
            offset = newest + 1
            last_update_at = self.clock()
            told = False
            await self._store_offset(offset)

    async def _load_offset(self) -> tuple[int | None, datetime]:
        """The stored offset and when it was stored (now when none is), retried until read."""
        failures = 0
        while True:
            try:
                async with self.runtime.sessions() as session:
                    stored = await kv_get_with_time(session, OFFSET_KEY)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self._state = ComponentState("degraded", f"the stored offset is unreadable: {exc}")
                log.warning("reading the getUpdates offset failed; retrying", exc_info=True)
                await asyncio.sleep(backoff(failures))
        if self._state.state == "degraded":
            self._state = ComponentState("running")
        if stored is None:
            return None, self.clock()
        value, stored_at = stored
        return int(value), stored_at

    async def _store_offset(self, offset: int) -> None:
        """Save the offset; a failure only costs a repeat after a restart (deduplicated)."""
        try:
            async with self.runtime.transaction() as session:
                await kv_set(session, OFFSET_KEY, str(offset), now=self.clock())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("the getUpdates offset %d was not saved", offset, exc_info=True)

    # ---- the webhook -------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        expected = self.runtime.config.telegram.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not same_secret(given, expected):
            log.warning("telegram webhook with a wrong secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            raw = await request.text()
            update = Update.model_validate(parse_json(raw), context={"bot": self.runtime.bot})
        except Exception:
            log.warning("telegram webhook body is not an Update", exc_info=True)
            return web.Response(status=400, text="bad update")
        if await self.feed(update, raw) is Verdict.RETRY:
            return web.Response(status=503, text="not processed; send it again")
        return web.Response(text="ok")


def update_json(update: Update) -> str:
    """An update as Telegram sent it (the fields it set), for a dead letter."""
    return json.dumps(
        update.model_dump(mode="json", exclude_unset=True, by_alias=True), ensure_ascii=False
    )


def chat_of(update: Update) -> int | None:
    """The chat an update belongs to (its updates are handled in order); None: no chat."""
    for event in (update.message, update.edited_message, update.my_chat_member):
        if event is not None:
            return int(event.chat.id)
    query = update.callback_query
    if query is not None:
        message = query.message
        return int(message.chat.id) if message is not None else int(query.from_user.id)
    return None
