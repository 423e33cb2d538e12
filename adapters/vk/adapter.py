"""The VK adapter: a community's messages in (long poll or Callback API), replies out.

    adapter = VkAdapter(settings, sink)     # settings: the `channels.vk` section (VkSettings)
    await adapter.start()            # long poll: starts polling; callback: serves routes()
    senders["vk"] = adapter.sender   # the outbox's Sender for platform "vk"

Events pass `convert.convert_event`; a new customer's message carries the name from
`users.get` (cached; deleted or banned accounts and failed lookups leave a guest). Who denied
messages is told to the core, which keeps it in the database (`customers.reachable`): it
refuses new replies to them, and the sender looks it up before each send, so a reply queued
before the denial is not tried either, in any process and after a restart. A customer's new
message makes them reachable again: writing to the community allows its replies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from aiohttp import web

from adapters.common.http import client_session
from adapters.common.updates import Ignored, InboundUpdate, apply, with_profile
from adapters.vk.callback import VkCallback
from adapters.vk.client import VkClient
from adapters.vk.convert import convert_event
from adapters.vk.longpoll import VkLongPoller
from adapters.vk.profiles import VkProfiles
from adapters.vk.sender import VkSender
from adapters.vk.settings import VkSettings
from bridge.adapter import CoreSink
from bridge.components import ComponentState
from bridge.errors import BridgeError
from bridge.events import CustomerProfile
from storage.customers import find_customer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

Transaction = Callable[[], AbstractAsyncContextManager["AsyncSession"]]


class LeaderDuties(Protocol):
    """What the adapter needs of bridge.leader.Leader: run a duty only while leading."""

    async def add_duty(self, name: str, duty: Callable[[], Awaitable[None]]) -> None: ...

    async def remove_duty(self, name: str) -> None: ...


class TsStore(Protocol):
    """Where the long poll's `ts` is kept, so a restart or a takeover resumes from it."""

    async def load(self) -> str | None: ...

    async def save(self, ts: str) -> None: ...


class VkAdapter:
    """A VK community as a customer channel (Adapter, HasRoutes, LooksUpProfiles)."""

    def __init__(
        self,
        settings: VkSettings,
        sink: CoreSink,
        *,
        leader: LeaderDuties | None = None,
        ts_store: TsStore | None = None,
        transaction: Transaction | None = None,
        channel: str = "vk",
        longpoll_wait: int = 25,
        timeout: float = 30,
    ) -> None:
        """`leader`: run the long poll only while this process leads (several processes on
        PostgreSQL); `ts_store`: where the long poll's `ts` survives a restart or a takeover;
        `transaction`: a database transaction on the process's engine, where the sender reads
        whether a customer denied messages (without one it never refuses on its own; VK does);
        `longpoll_wait` and `timeout` (seconds) are shortened by tests."""
        if settings.updates == "callback" and not (settings.secret and settings.confirmation):
            raise ValueError("the Callback API needs channels.vk.secret and .confirmation")
        self.settings = settings
        self._leader = leader
        self._ts_store = ts_store
        self._transaction = transaction
        self.channel = channel
        self.name = f"channel:{channel}"
        self._sink = sink
        self.client = VkClient(
            settings.token,
            settings.api_url,
            requests_per_second=settings.limits.requests_per_second,
            timeout=timeout,
        )
        self.profiles = VkProfiles(self.client)
        self._http: aiohttp.ClientSession | None = None
        self.sender = VkSender(self.client, self._session, self.denied)
        self.poller: VkLongPoller | None = None
        self.callback: VkCallback | None = None
        if settings.updates == "longpoll":
            self.poller = VkLongPoller(
                self.client,
                settings.group_id,
                self.handle_event,
                wait=longpoll_wait,
                save_ts=ts_store.save if ts_store is not None else None,
            )
        else:
            assert settings.secret and settings.confirmation  # checked above
            self.callback = VkCallback(
                settings.group_id, settings.secret, settings.confirmation, self.handle_event
            )
        self._state = ComponentState("stopped")
        self._polling = False

    # ---- Component --------------------------------------------------------------------------

    async def start(self) -> None:
        self._state = ComponentState("starting")
        try:
            if self.poller is not None and self._leader is None:
                await self._start_polling()
            else:  # a bad token stops the start here, not later in a duty
                await self.client.call("groups.getById", group_id=self.settings.group_id)
                if self.poller is not None and self._leader is not None:
                    await self._leader.add_duty(self._duty_name, self._poll_while_leading)
        except BridgeError as exc:
            self._state = ComponentState("failed", str(exc))
            raise
        self._state = ComponentState("running")

    async def stop(self) -> None:
        if self.poller is not None and self._leader is not None:
            await self._leader.remove_duty(self._duty_name)
        if self.poller is not None:
            await self.poller.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.profiles.close()
        await asyncio.to_thread(self.client.close)
        self._state = ComponentState("stopped")

    def state(self) -> ComponentState:
        if self.poller is not None and self._state.state == "running":
            if self._leader is not None and not self._polling:
                return ComponentState("running", "standby: another process polls (not the leader)")
            return self.poller.state()
        return self._state

    # ---- the long poll, alone or as a leader's duty -------------------------------------------

    @property
    def _duty_name(self) -> str:
        return f"vk-longpoll:{self.settings.group_id}"

    async def _start_polling(self) -> None:
        assert self.poller is not None
        if self._ts_store is not None:
            self.poller.ts = await self._ts_store.load()
        await self.poller.start()
        self._polling = True

    async def _poll_while_leading(self) -> None:
        """Poll until the leadership ends (the leader cancels this duty)."""
        assert self.poller is not None
        try:
            await self._start_polling()
            await asyncio.Event().wait()
        finally:
            self._polling = False
            await self.poller.stop()

    def routes(self) -> list[web.AbstractRouteDef]:
        """`POST /webhooks/vk` when `updates: callback`; nothing for the long poll."""
        return self.callback.routes() if self.callback is not None else []

    # ---- events in --------------------------------------------------------------------------

    async def handle_event(self, event: dict[str, Any]) -> None:
        """Apply one VK event; returns after the core committed it (raises otherwise)."""
        for update in convert_event(event, self.channel):
            if isinstance(update, Ignored):
                log.debug("VK: ignored: %s", update.reason)
                continue
            if isinstance(update, InboundUpdate) and update.event.profile is None:
                update = await with_profile(update, self.profiles.for_message, "VK")
            await apply(self._sink, self.channel, update)

    async def denied(self, user: str) -> bool:
        """Whether the customer `user` denied messages from the community (in the database:
        the core records message_deny, and a message of theirs allows replies again)."""
        if self._transaction is None:
            return False
        async with self._transaction() as session:
            customer = await find_customer(session, self.channel, user)
        return customer is not None and not customer.reachable

    async def lookup_profile(self, user: str) -> CustomerProfile | None:
        """LooksUpProfiles: the customer's VK name (None for deleted/banned accounts)."""
        return await self.profiles.lookup(user)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = client_session()
        return self._http
