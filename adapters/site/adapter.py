"""The site widget component: one `SiteAdapter` per configured widget, on the service's database.

    site = SiteChannel(config, sink, sessions=runtime.session, telegram_link=link)
    components.extend(site.adapters)           # Adapter + HasRoutes: /widget/<id>...
    components.extend([site.push] if site.push else [])  # PostgreSQL: other processes
    senders["site"] = site.sender              # SiteSender, pushes replies to open sockets

Each adapter serves `/widget/<id>.js` (the one-tag embed), `/widget/<id>` (standalone page),
`/widget/<id>/ws` and the API under `/widget/<id>/` (see `routes.py`). A visitor's message
goes to the core as `Inbound(channel="site:<id>", chat=visitor, user=visitor, ...)` and is
answered only after the core committed it. An operator's files are copied for the visitor
they were sent to (`replies.py`); `telegram_link` fetches those known only by a Telegram file_id.
`sessions` makes a session of the service's one engine (bridge/runtime.py, open while the
service runs); the site opens no engine of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from adapters.site import tokens
from adapters.site.history import History, JustStored, message_view
from adapters.site.hub import Hub
from adapters.site.limits import (
    CONNECTIONS,
    MAX_UPLOAD,
    MESSAGES,
    NEW_CONVERSATIONS,
    NEW_VISITORS,
    UPLOADS,
    RateLimiter,
)
from adapters.site.open_visitors import OpenChecks, OpenVisitors
from adapters.site.origins import OriginPolicy
from adapters.site.push import SitePush
from adapters.site.quotas import UploadQuotas
from adapters.site.replies import ReplyFiles, TelegramLink
from adapters.site.sender import SiteSender
from adapters.site.settings import SiteSettings, Widget
from adapters.site.sockets import SocketCaps
from adapters.site.uploads import FileStore
from bridge.adapter import TellsStoredInbound
from bridge.components import ComponentState
from bridge.core.texts import CustomerTexts
from bridge.web.clients import ClientAddress
from storage.db import backend_name, reading
from storage.messages import attachments_json
from storage.site import visitor_message, visitor_message_by_id, visitors_with_open_conversation

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.adapter import CoreSink
    from bridge.events import Inbound
    from config import BridgeConfig

log = logging.getLogger(__name__)

#: Makes a session of the service's database (`Runtime.session`, or a test's sessionmaker).
SessionFactory = Callable[[], "AsyncSession"]


class SiteAdapter:
    """One chat widget as a customer channel (bridge.adapter.Adapter with routes)."""

    def __init__(
        self,
        widget_id: str,
        widget: Widget,
        sink: CoreSink,
        *,
        signing_key: bytes,
        sessions: SessionFactory,
        files: FileStore,
        public_url: str | None = None,
        language: str = "en",
        telegram_link: TelegramLink | None = None,
        client_address: ClientAddress | None = None,
        sockets: SocketCaps | None = None,
        texts: CustomerTexts | None = None,
    ) -> None:
        """`texts`: the customer texts with the admin's `texts:` overrides (visitors' notices)."""
        self.widget_id = widget_id
        #: The visitor's address for per-address limits (X-Forwarded-For from trusted proxies).
        self.client_address = client_address or ClientAddress()
        self.widget = widget
        self.channel = f"site:{widget_id}"
        self.name = f"channel:{self.channel}"
        self.sink = sink
        # Checked once: isinstance against a runtime protocol is slow for every message.
        self._tells_stored = isinstance(sink, TellsStoredInbound)
        self.key = signing_key
        self.sessions = sessions
        self.files = files
        self.replies = ReplyFiles(signing_key, widget_id, files, telegram_link)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.language = language
        self.texts = texts or CustomerTexts()
        self.origins = OriginPolicy(widget.origins, public_url)
        self.hub = Hub()
        #: Open WebSockets per visitor, per address and in all (sockets.py); one per process,
        #: shared by every widget of a `SiteChannel`.
        self.sockets = sockets or SocketCaps()
        self.message_limit = RateLimiter(MESSAGES)
        self.upload_limit = RateLimiter(UPLOADS)
        self.visitor_limit = RateLimiter(NEW_VISITORS)
        self.connection_limit = RateLimiter(CONNECTIONS)
        #: Keyed by the widget id: new conversations of all its visitors (limits.py).
        self.new_conversation_limit = RateLimiter(NEW_CONVERSATIONS)
        #: Visitors whose conversation was open a moment ago (open_visitors.py).
        self.open_visitors = OpenVisitors()
        #: The others' checks, asked together (open_visitors.py).
        self.open_checks = OpenChecks(self._with_open_conversation)
        #: Bytes a visitor, an address and the widget may store (quotas.py).
        self.upload_quotas = UploadQuotas(files.root / widget_id)
        self._state = ComponentState("stopped")

    # ---- Component ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._state = ComponentState("running")

    async def stop(self) -> None:
        await self.hub.close_all()
        await self.replies.close()
        self._state = ComponentState("stopped")

    def state(self) -> ComponentState:
        if self._state.state == "running":
            return ComponentState("running", f"{self.hub.count()} open sockets")
        return self._state

    def routes(self) -> list[web.AbstractRouteDef]:
        from adapters.site.routes import widget_routes

        return widget_routes(self)

    # ---- what the handlers and the sender share -----------------------------------------------

    @property
    def base_path(self) -> str:
        return f"/widget/{self.widget_id}"

    def file_link(self, visitor: str, file_id: str) -> str:
        """The signed path of a visitor's file (relative to the bridge)."""
        signature = tokens.file_signature(self.key, self.widget_id, visitor, file_id)
        return f"{self.base_path}/files/{visitor}/{file_id}/{signature}"

    @property
    def history(self) -> History:
        return History(self.sessions, self.channel, self.file_link, self.replies.find)

    async def stored_view(self, visitor: str, message_id: int | None) -> dict[str, Any] | None:
        """A stored message of this visitor as the widget shows it, or None."""
        if message_id is None:
            return None
        async with reading(self.sessions) as session:
            message = await visitor_message_by_id(session, self.channel, visitor, message_id)
        if message is None:
            return None
        return message_view(message, visitor, self.file_link, self.replies.find)

    async def has_open_conversation(self, visitor: str) -> bool:
        """Whether the visitor's next message goes into a conversation already open (True)
        or would open a new one, with a card in the group's feed (False). A visitor who was
        seen with an open conversation a moment ago is not asked about (open_visitors.py)."""
        if visitor in self.open_visitors:
            return True
        found = await self.open_checks.has_open(visitor)
        if found:
            self.open_visitors.remember(visitor)
        return found

    async def _with_open_conversation(self, visitors: list[str]) -> set[str]:
        async with reading(self.sessions) as session:
            return await visitors_with_open_conversation(session, self.channel, visitors)

    async def store_message(
        self, visitor: str, event: Inbound
    ) -> tuple[bool, dict[str, Any] | None]:
        """Store the visitor's message through the core (committed on return): whether it was
        new (False: a repeat), and the stored message as the widget shows it (None when the
        core stored none). A new message's view is made from the event and the id the core
        reports (`sent_at` set, so its time is the stored one), without reading it back."""
        sink = self.sink
        if self._tells_stored:
            stored = await cast(TellsStoredInbound, sink).inbound_stored(event)
            if stored is not None and stored.message_id is not None and event.sent_at is not None:
                message = JustStored(
                    id=stored.message_id,
                    text=event.text,
                    attachments=attachments_json(event.attachments),
                    created_at=event.sent_at,
                    external_id=event.external_id,
                )
                return True, message_view(message, visitor, self.file_link)
            is_new = stored is not None
        else:
            is_new = await sink.inbound(event)
        return is_new, await self.own_message_view(visitor, event.external_id)

    async def own_message_view(self, visitor: str, external_id: str) -> dict[str, Any] | None:
        """The visitor's message the core stored under `external_id`, as the widget shows it."""
        async with reading(self.sessions) as session:
            message = await visitor_message(session, self.channel, visitor, external_id)
        return None if message is None else message_view(message, visitor, self.file_link)


class SiteChannel:
    """Every configured widget's adapter, their files, and the sender."""

    def __init__(
        self,
        config: BridgeConfig,
        sink: CoreSink,
        *,
        sessions: SessionFactory,
        telegram_link: TelegramLink,
        files_dir: Path | None = None,
        max_upload: int = MAX_UPLOAD,
        max_sockets: int | None = None,
    ) -> None:
        """`telegram_link` signs links to operators' Telegram files (app.wiring hands
        in `TelegramFiles.link`, the same link the VK, Viber and Facebook outlets get).
        `max_sockets` caps the open WebSockets of every widget together (default: sockets.py's
        `MAX_TOTAL`, or half the open-file limit when that is lower)."""
        site = config.section("site")
        assert site is None or isinstance(site, SiteSettings)
        widgets = dict(site.widgets) if site is not None else {}
        self.files = FileStore(files_dir or default_files_dir(config.database), max_upload)
        key = config.widget_signing_key()
        public_url = str(config.http.public_url) if config.http.public_url else None
        client_address = ClientAddress(config.http.trusted_proxies)
        sockets = SocketCaps(max_total=max_sockets)
        texts = CustomerTexts(config.texts.override)
        self.adapters = [
            SiteAdapter(
                widget_id,
                widget,
                sink,
                signing_key=key,
                sessions=sessions,
                files=self.files,
                public_url=public_url,
                language=config.language,
                telegram_link=telegram_link,
                client_address=client_address,
                sockets=sockets,
                texts=texts,
            )
            for widget_id, widget in widgets.items()
        ]
        self.by_channel = {adapter.channel: adapter for adapter in self.adapters}
        #: Replies to visitors whose socket is open on another process (PostgreSQL only).
        self.push = (
            SitePush(config.database, self.by_channel)
            if self.adapters and backend_name(config.database) == "postgresql"
            else None
        )
        self.sender = SiteSender(self.by_channel, self.push)


def default_files_dir(database_url: str) -> Path:
    """Next to a SQLite database file; else `./site-files` in the working directory."""
    from storage.db import sqlite_path

    path = sqlite_path(database_url)
    if path is not None:
        return Path(path).resolve().parent / "site-files"
    return Path("site-files").resolve()
