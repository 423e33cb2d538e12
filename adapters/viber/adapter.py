"""The Viber adapter: signed callbacks in, `send_message` out.

    adapter = ViberAdapter(settings, sink)  # settings: the `channels.viber` section
    app.add_routes(adapter.routes())        # POST /webhooks/viber
    senders["viber"] = adapter.sender

After an `unsubscribed` the core refuses replies until the customer subscribes or writes
again (writing subscribes a Viber user again; the core marks them reachable then).

Registering the webhook with Viber (`set_webhook`) is the set-webhooks command's job:
`adapter.set_webhook(url)` does it.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiohttp import web
from viberbot.api.messages import TextMessage

from adapters.common.http import client_session
from adapters.common.updates import Ignored, InboundUpdate, ReachabilityUpdate, apply
from adapters.viber.callback import ViberCallback
from adapters.viber.client import ViberApi
from adapters.viber.convert import convert_request, parse_request
from adapters.viber.profiles import ViberProfiles
from adapters.viber.sender import ViberSender
from adapters.viber.settings import ViberSettings
from bridge.adapter import CoreSink
from bridge.components import ComponentState
from bridge.events import CustomerProfile

log = logging.getLogger(__name__)

#: Events the bridge asks Viber for (message, subscribed, unsubscribed always come).
EVENT_TYPES = ["delivered", "seen", "failed", "conversation_started"]


class ViberAdapter:
    """A Viber bot as a customer channel (Adapter, HasRoutes, LooksUpProfiles)."""

    def __init__(self, settings: ViberSettings, sink: CoreSink, *, channel: str = "viber") -> None:
        self.settings = settings
        self.channel = channel
        self.name = f"channel:{channel}"
        self._sink = sink
        self._http: aiohttp.ClientSession | None = None
        self.api = ViberApi(settings.api_url, settings.token, self._session)
        self.profiles = ViberProfiles(self.api)
        self.sender = ViberSender(self.api, settings, self._session)
        self.callback = ViberCallback(
            settings.token, parse_request, self.handle_request, self.welcome
        )
        self._state = ComponentState("stopped")

    async def start(self) -> None:
        """Nothing to connect: Viber calls us. (The token is checked by set-webhooks.)"""
        self._state = ComponentState("running")

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._state = ComponentState("stopped")

    def state(self) -> ComponentState:
        return self._state

    def routes(self) -> list[web.AbstractRouteDef]:
        return self.callback.routes()

    async def handle_request(self, request: Any) -> None:
        """Apply one parsed callback; returns after the core committed it."""
        for update in convert_request(request, self.channel):
            if isinstance(update, Ignored):
                log.debug("Viber: ignored: %s", update.reason)
                continue
            if isinstance(update, InboundUpdate):
                self.profiles.remember(update.event.user, update.event.profile)
            if isinstance(update, ReachabilityUpdate) and update.reachable:
                log.debug("Viber: %s subscribed", update.user)
            await apply(self._sink, self.channel, update)

    def welcome(self) -> dict[str, Any] | None:
        """The welcome message answered to `conversation_started`, when a greeting is set."""
        if not self.settings.greeting:
            return None
        message = TextMessage(text=self.settings.greeting).to_dict()
        return {"sender": self.sender.sender_field(), **message}

    async def lookup_profile(self, user: str) -> CustomerProfile | None:
        """LooksUpProfiles: cached; at most one get_user_details per user per process."""
        return await self.profiles.lookup(user)

    async def set_webhook(self, url: str) -> dict[str, Any]:
        """Register `url` as the bot's webhook (Viber checks it answers 200 first)."""
        return await self.api.call(
            "set_webhook", {"url": url, "event_types": EVENT_TYPES, "send_name": True}
        )

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = client_session()
        return self._http
