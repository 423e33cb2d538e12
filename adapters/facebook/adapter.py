"""The Messenger adapter: a Page's signed webhooks in, the Send API out.

    adapter = FacebookAdapter(settings, sink)  # settings: the `channels.facebook` section
    app.add_routes(adapter.routes())     # GET and POST /webhooks/facebook
    senders["facebook"] = adapter.sender

Each new customer's message carries the name from the User Profile API (cached; refused →
guest). `read` receipts (a watermark) are resolved in the database to the replies sent to
that customer before it (storage/sent.py), so any process, also after a restart, marks them
seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from adapters.common.http import client_session
from adapters.common.updates import (
    DeliveryUpdate,
    Ignored,
    InboundUpdate,
    Update,
    apply,
    apply_by_customer,
    with_profile,
)
from adapters.facebook.client import GraphApi
from adapters.facebook.convert import ReadWatermark, convert_body
from adapters.facebook.profiles import FacebookProfiles
from adapters.facebook.sender import FacebookSender
from adapters.facebook.settings import FacebookSettings
from adapters.facebook.webhook import FacebookWebhook
from bridge.adapter import CoreSink
from bridge.components import ComponentState
from bridge.events import CustomerProfile
from storage.sent import unseen_sent_until

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from adapters.facebook.deletion import DataDeletion

Transaction = Callable[[], AbstractAsyncContextManager["AsyncSession"]]

log = logging.getLogger(__name__)


class FacebookAdapter:
    """A Facebook Page as a customer channel (Adapter, HasRoutes, LooksUpProfiles)."""

    def __init__(
        self,
        settings: FacebookSettings,
        sink: CoreSink,
        *,
        channel: str = "facebook",
        transaction: Transaction | None = None,
    ) -> None:
        """`transaction`: a database transaction on the process's engine, where read receipts
        find the replies they cover (without one, read receipts are ignored)."""
        self.settings = settings
        self._transaction = transaction
        self.channel = channel
        self.name = f"channel:{channel}"
        self._sink = sink
        self._http: aiohttp.ClientSession | None = None
        self.api = GraphApi(settings.graph_url, settings.page_token, self._session)
        self.profiles = FacebookProfiles(self.api)
        self.sender = FacebookSender(self.api)
        self.webhook = FacebookWebhook(
            settings.app_secret, settings.verify_token, self.handle_body
        )
        self.data_deletion: DataDeletion | None = None
        self._state = ComponentState("stopped")

    async def start(self) -> None:
        """Nothing to connect: Meta calls us."""
        self._state = ComponentState("running")

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._state = ComponentState("stopped")

    def state(self) -> ComponentState:
        return self._state

    def routes(self) -> list[web.AbstractRouteDef]:
        extra = self.data_deletion.routes() if self.data_deletion is not None else []
        return [*self.webhook.routes(), *extra]

    def use_data_deletion(self, data_deletion: DataDeletion) -> None:
        """Serve Meta's Data Deletion Request Callback (and its status page) too."""
        self.data_deletion = data_deletion

    async def handle_body(self, body: dict[str, Any]) -> None:
        """Apply every event of a webhook body (validated whole first); raises on failure.

        The body's messages are stored together (`apply_by_customer`: each customer's in
        order, the customers at once, in the sink's shared commits)."""
        messages: list[Update] = []
        for update in convert_body(body, self.channel):
            if isinstance(update, Ignored):
                log.debug("Messenger: ignored: %s", update.reason)
                continue
            if isinstance(update, ReadWatermark):
                for mid in await self._read_until(update.user, update.watermark):
                    await apply(self._sink, self.channel, DeliveryUpdate(mid, "seen"))
                continue
            if isinstance(update, InboundUpdate):
                self.sender.customer_wrote(update.event.user)
                messages.append(update)
                continue
            await apply(self._sink, self.channel, update)
        await apply_by_customer(self._sink, self.channel, messages, self._with_profile)

    async def _with_profile(self, update: Update) -> Update:
        if isinstance(update, InboundUpdate):
            return await with_profile(update, self.profiles.lookup, "Messenger")
        return update

    async def _read_until(self, psid: str, watermark: int) -> list[str]:
        """The mids of our replies to `psid` that a read `watermark` (ms) covers."""
        if self._transaction is None:
            log.debug("Messenger: read receipt ignored: no database to resolve it in")
            return []
        until = datetime.fromtimestamp(watermark / 1000, UTC)
        async with self._transaction() as session:
            return await unseen_sent_until(session, self.channel, psid, until)

    async def lookup_profile(self, user: str) -> CustomerProfile | None:
        """LooksUpProfiles: the customer's name, None when Meta refuses it."""
        return await self.profiles.lookup(user)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = client_session()
        return self._http
