"""A small bridge for the widget's tests: the site component, real SQLite, a storing sink.

`StoringSink` records what the adapter reported (like tests/adapters/recording_sink) and stores
it the way the core does (customer, open conversation, message), so history reads real rows.
`Bridge.reply()` plays an operator: stores the reply and hands the outbox row to the sender.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel

from adapters.common.outbound import outbound_payload
from adapters.site import SiteChannel
from bridge.events import Attachment, Inbound, Outbound
from config import BridgeConfig, parse_config
from storage.conversations import find_or_open_conversation
from storage.customers import find_customer, upsert_customer
from storage.db import create_engine, session_factory
from storage.messages import store_inbound_message, store_operator_reply
from storage.models import OutboxItem
from tests.adapters.recording_sink import RecordingSink

WIDGET = "shop"
SHOP_ORIGIN = "http://shop.test:8000"
SECRET = "widget-secret-for-the-tests-0123456789"


def site_config(origins: list[str], database: str, language: str = "en") -> BridgeConfig:
    return parse_config(
        {
            "language": language,
            "database": database,
            "http": {"widget_secret": SECRET, "public_url": "http://bridge.test"},
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
class Bridge:
    config: BridgeConfig
    site: SiteChannel
    sink: StoringSink
    sessions: async_sessionmaker
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
                session, conversation.id, channel="desk", author="Anna", text=text
            )
        outbound = Outbound(channel=channel, chat=visitor, text=text, attachments=attachments)
        item = OutboxItem(
            id=next(self._ids),
            platform="site",
            destination=f"{channel}:{visitor}",
            lane=f"{channel}:{visitor}",
            kind="reply",
            payload=outbound_payload(outbound),
            message_id=message.id,
        )
        return await self.site.sender.deliver(item)


async def open_bridge(tmp_path: Path, origins: list[str], language: str = "en") -> Bridge:
    """A started site channel over a fresh SQLite database in `tmp_path`."""
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions = session_factory(engine)
    sink = StoringSink()
    sink.sessions = sessions
    config = site_config(origins, url, language)
    site = SiteChannel(config, sink, sessions=sessions, files_dir=tmp_path / "files")
    for adapter in site.adapters:
        await adapter.start()
    bridge = Bridge(config, site, sink, sessions)
    bridge._engine = engine  # type: ignore[attr-defined]
    return bridge


async def close_bridge(bridge: Bridge) -> None:
    for adapter in bridge.site.adapters:
        await adapter.stop()
    await bridge._engine.dispose()  # type: ignore[attr-defined]
