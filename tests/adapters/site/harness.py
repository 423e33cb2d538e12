"""A small bridge for the widget's tests: the site component, real SQLite, a storing sink.

`StoringSink` records what the adapter reported (like tests/adapters/recording_sink) and stores
it the way the core does (customer, open conversation, message), so history reads real rows.
`Bridge.reply()` plays an operator: stores the reply and hands the outbox row to the sender.
`OperatorFiles` plays the bridge's `/files/telegram/...` route over real HTTP: the operators'
Telegram files, which the site sender fetches to keep a copy for the visitor.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel

from adapters.common.outbound import outbound_payload
from adapters.site import SiteChannel
from app.config import parse_config
from bridge.events import Attachment, Inbound, Outbound
from config import BridgeConfig
from sandbox.runner import RunningApp, start_app
from storage.conversations import find_or_open_conversation
from storage.customers import find_customer, upsert_customer
from storage.db import create_engine, session_factory
from storage.messages import store_inbound_message, store_operator_reply
from storage.models import OutboxItem
from tests.adapters.recording_sink import RecordingSink

WIDGET = "shop"
SHOP_ORIGIN = "http://shop.test:8000"
SECRET = "widget-secret-for-the-tests-0123456789"


def site_config(
    origins: list[str], database: str, language: str = "en", http: dict[str, Any] | None = None
) -> BridgeConfig:
    return parse_config(
        {
            "language": language,
            "database": database,
            "http": {"widget_secret": SECRET, "public_url": "http://bridge.test", **(http or {})},
            "telegram": {"token": "123456:real-token"},
            "groups": {"support": {"chat_id": -1001000000001}},
            "channels": {
                "site": {
                    "widgets": {
                        WIDGET: {"group": "support", "title": "Shop support", "origins": origins},
                        "other": {
                            "group": "support",
                            "title": "Other",
                            "origins": ["https://other.test"],
                        },
                    }
                }
            },
        }
    )


class StoringSink(RecordingSink):
    """Records every inbound event and stores it as the core would."""

    sessions: async_sessionmaker

    async def inbound(self, event: Inbound) -> bool:
        if not await super().inbound(event):
            return False
        name = event.profile.full_name if event.profile else None
        async with self.sessions() as session, session.begin():
            customer = await upsert_customer(
                session, event.channel, event.user, event.chat, name=name
            )
            conversation, _ = await find_or_open_conversation(session, customer, "support")
            await store_inbound_message(
                session,
                conversation,
                channel=event.channel,
                external_id=event.external_id,
                author=customer.display_name,
                text=event.text,
                attachments=event.attachments,
            )
        return True


@dataclass
class OperatorFiles:
    """Operators' Telegram files by file_id, served at `<base_url>/files/telegram/<id>/<sig>`."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fetches: list[str] = field(default_factory=list)
    base_url: str = ""
    running: RunningApp | None = None

    def add(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """A file an operator sent in the group; returns its file_id."""
        file_id = "AgACAgIAAxkBAAI" + secrets.token_urlsafe(12)
        self.files[file_id] = (data, content_type)
        return file_id

    def link(self, file_id: str) -> str | None:
        return f"{self.base_url}/files/telegram/{file_id}/signed" if self.base_url else None

    async def _serve(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.fetches.append(file_id)
        if file_id not in self.files:
            return web.Response(status=404, text="no such file")
        data, content_type = self.files[file_id]
        return web.Response(body=data, content_type=content_type)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/files/telegram/{file_id}/{signature}", self._serve)
        self.running = await start_app(app)
        self.base_url = self.running.base_url

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.runner.cleanup()
            self.running = None


@dataclass
class Bridge:
    config: BridgeConfig
    site: SiteChannel
    sink: StoringSink
    sessions: async_sessionmaker
    operator_files: OperatorFiles
    _ids: Any = None

    def app(self) -> web.Application:
        app = web.Application()
        for adapter in self.site.adapters:
            app.router.add_routes(adapter.routes())
        return app

    async def reply(
        self, visitor: str, text: str, attachments: tuple[Attachment, ...] = ()
    ) -> dict[str, Any]:
        """An operator answers `visitor`: stored, then delivered by the site sender."""
        item = await self.store_reply(visitor, text, attachments)
        return await self.site.sender.deliver(item)

    async def store_reply(
        self, visitor: str, text: str, attachments: tuple[Attachment, ...] = ()
    ) -> OutboxItem:
        """An operator's reply stored as the core stores it; returns its outbox row."""
        self._ids = self._ids or count(1)
        channel = f"site:{WIDGET}"
        for _ in range(100):  # the visitor's message may still be committing
            async with self.sessions() as session:
                if await find_customer(session, channel, visitor) is not None:
                    break
            await asyncio.sleep(0.05)
        async with self.sessions() as session, session.begin():
            customer = await find_customer(session, channel, visitor)
            assert customer is not None, "the visitor has not written yet"
            conversation, _ = await find_or_open_conversation(session, customer, "support")
            assert conversation.id is not None
            message = await store_operator_reply(
                session,
                conversation.id,
                channel="desk",
                author="Anna",
                text=text,
                attachments=attachments,
            )
        outbound = Outbound(channel=channel, chat=visitor, text=text, attachments=attachments)
        return OutboxItem(
            id=next(self._ids),
            platform="site",
            destination=f"{channel}:{visitor}",
            lane=f"{channel}:{visitor}",
            kind="reply",
            payload=outbound_payload(outbound),
            message_id=message.id,
        )


async def open_bridge(
    tmp_path: Path, origins: list[str], language: str = "en", http: dict[str, Any] | None = None
) -> Bridge:
    """A started site channel over a fresh SQLite database in `tmp_path`."""
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions = session_factory(engine)
    sink = StoringSink()
    sink.sessions = sessions
    config = site_config(origins, url, language, http)
    operator_files = OperatorFiles()
    await operator_files.start()
    site = SiteChannel(
        config,
        sink,
        sessions=sessions,
        files_dir=tmp_path / "files",
        telegram_link=operator_files.link,
    )
    for adapter in site.adapters:
        await adapter.start()
    bridge = Bridge(config, site, sink, sessions, operator_files)
    bridge._engine = engine
    return bridge


async def close_bridge(bridge: Bridge) -> None:
    for adapter in bridge.site.adapters:
        await adapter.stop()
    await bridge.operator_files.stop()
    await bridge._engine.dispose()
