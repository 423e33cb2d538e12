"""The site widget component: one `SiteAdapter` per configured widget, sharing the database.

    site = SiteChannel(config, sink, telegram_link=link)  # tests add sessions=factory
    components.extend(site.adapters)           # Adapter + HasRoutes: /widget/<id>...
    senders["site"] = site.sender              # SiteSender, pushes replies to open sockets

Each adapter serves `/widget/<id>.js` (the one-tag embed), `/widget/<id>` (standalone page),
`/widget/<id>/ws` and the API under `/widget/<id>/` (see `routes.py`). A visitor's message
goes to the core as `Inbound(channel="site:<id>", chat=visitor, user=visitor, ...)` and is
answered only after the core committed it. An operator's files are copied for the visitor
they were sent to (`replies.py`); `telegram_link` fetches those known only by a Telegram file_id.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.site import tokens
from adapters.site.history import History, message_view
from adapters.site.hub import Hub
from adapters.site.limits import (
    CONNECTIONS,
    MAX_UPLOAD,
    MESSAGES,
    NEW_VISITORS,
    UPLOADS,
    RateLimiter,
)
from adapters.site.origins import OriginPolicy
from adapters.site.replies import ReplyFiles, TelegramLink
from adapters.site.sender import SiteSender
from adapters.site.settings import SiteSettings, Widget
from adapters.site.uploads import FileStore
from bridge.components import ComponentState
from storage.site import visitor_message, visitor_message_by_id

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

    from bridge.adapter import CoreSink
    from config import BridgeConfig

log = logging.getLogger(__name__)


class SharedDatabase:
    """One engine for every widget: opened by the first adapter to start, closed by the last."""

    def __init__(self, url: str, sessions: async_sessionmaker | None = None) -> None:
        self.url = url
        self.sessions = sessions
        self._owned: AsyncEngine | None = None
        self._users = 0

    async def open(self) -> None:
        self._users += 1
        if self.sessions is None:
            from storage.db import create_engine, session_factory

            self._owned = create_engine(self.url)
            self.sessions = session_factory(self._owned)

    async def close(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._owned is not None:
            await self._owned.dispose()
            self._owned = None
            self.sessions = None


class SiteAdapter:
    """One chat widget as a customer channel (bridge.adapter.Adapter with routes)."""

    def __init__(
        self,
        widget_id: str,
        widget: Widget,
        sink: CoreSink,
        *,
        signing_key: bytes,
        database: SharedDatabase,
        files: FileStore,
        public_url: str | None = None,
        language: str = "en",
        telegram_link: TelegramLink | None = None,
    ) -> None:
        self.widget_id = widget_id
        self.widget = widget
        self.channel = f"site:{widget_id}"
        self.name = f"channel:{self.channel}"
        self.sink = sink
        self.key = signing_key
        self.database = database
        self.files = files
        self.replies = ReplyFiles(signing_key, widget_id, files, telegram_link)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.language = language
        self.origins = OriginPolicy(widget.origins, public_url)
        self.hub = Hub()
        self.message_limit = RateLimiter(MESSAGES)
        self.upload_limit = RateLimiter(UPLOADS)
        self.visitor_limit = RateLimiter(NEW_VISITORS)
        self.connection_limit = RateLimiter(CONNECTIONS)
        self._state = ComponentState("stopped")

    # ---- Component ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.database.open()
        self._state = ComponentState("running")

    async def stop(self) -> None:
        await self.hub.close_all()
        await self.replies.close()
        if self._state.state != "stopped":
            await self.database.close()
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
        if self.database.sessions is None:
            raise RuntimeError(f"{self.name} is not started")
        return History(self.database.sessions, self.channel, self.file_link, self.replies.find)

    async def stored_view(self, visitor: str, message_id: int | None) -> dict[str, Any] | None:
        """A stored message of this visitor as the widget shows it, or None."""
        if message_id is None or self.database.sessions is None:
            return None
        async with self.database.sessions() as session:
            message = await visitor_message_by_id(session, self.channel, visitor, message_id)
        if message is None:
            return None
        return message_view(message, visitor, self.file_link, self.replies.find)

    async def own_message_view(self, visitor: str, external_id: str) -> dict[str, Any] | None:
        """The visitor's message the core stored under `external_id`, as the widget shows it."""
        if self.database.sessions is None:
            return None
        async with self.database.sessions() as session:
            message = await visitor_message(session, self.channel, visitor, external_id)
        return None if message is None else message_view(message, visitor, self.file_link)


class SiteChannel:
    """Every configured widget's adapter, the shared database and files, and the sender."""

    def __init__(
        self,
        config: BridgeConfig,
        sink: CoreSink,
        *,
        telegram_link: TelegramLink,
        sessions: async_sessionmaker | None = None,
        files_dir: Path | None = None,
        max_upload: int = MAX_UPLOAD,
    ) -> None:
        """`telegram_link` signs links to operators' Telegram files (app.wiring hands
        in `TelegramFiles.link`, the same link the VK, Viber and Facebook outlets get)."""
        site = config.section("site")
        assert site is None or isinstance(site, SiteSettings)
        widgets = dict(site.widgets) if site is not None else {}
        self.database = SharedDatabase(config.database, sessions)
        self.files = FileStore(files_dir or default_files_dir(config.database), max_upload)
        key = config.widget_signing_key()
        public_url = str(config.http.public_url) if config.http.public_url else None
        self.adapters = [
            SiteAdapter(
                widget_id,
                widget,
                sink,
                signing_key=key,
                database=self.database,
                files=self.files,
                public_url=public_url,
                language=config.language,
                telegram_link=telegram_link,
            )
            for widget_id, widget in widgets.items()
        ]
        self.by_channel = {adapter.channel: adapter for adapter in self.adapters}
        self.sender = SiteSender(self.by_channel)


def default_files_dir(database_url: str) -> Path:
    """Next to a SQLite database file; else `./site-files` in the working directory."""
    from storage.db import sqlite_path

    path = sqlite_path(database_url)
    if path is not None:
        return Path(path).resolve().parent / "site-files"
    return Path("site-files").resolve()
