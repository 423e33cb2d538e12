"""A running bridge (the real service and components) against the fake Telegram, in-process.

The fake's control API plays customers and operators; aiogram talks to the fake over real
HTTP (mounted under /telegram). Time is scaled on both sides so pacing tests take seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from app.config import parse_config
from app.service import Service
from app.wiring import build_service
from botapi.updates import UpdatesIntake
from config import BridgeConfig
from sandbox.runner import serving
from sandbox.telegram.limits import TelegramLimits
from sandbox.telegram.server import FakeTelegram

TOKEN = "123456:TEST-token_for_the_fake"
SECRET = "webhook-secret_123"


@dataclass
class Desk:
    fake: FakeTelegram
    service: Service
    config: BridgeConfig
    group_id: int
    ann: Any  # operator
    bob: Any  # operator
    eve: Any  # a member who is not an operator when `operators` is set
    customer: Any
    base_url: str
    other_groups: dict[str, int] = field(default_factory=dict)  # name → chat id

    def card(self, index: int = -1) -> Any:
        cards = [m for m in self.fake.chat_view(self.group_id) if m.kind == "photo"]
        return cards[index]

    def topic_messages(self, topic: int) -> list[Any]:
        return [m for m in self.fake.chat_view(self.group_id, topic=topic) if m.kind == "text"]

    def customer_sees(self) -> list[Any]:
        return [m for m in self.fake.chat_view(self.customer.id) if m.from_id != self.customer.id]

    def customer_message(self, message_id: int) -> Any:
        """The bot's message `message_id` as the customer sees it now (edits included)."""
        return next(m for m in self.customer_sees() if m.message_id == message_id)

    @property
    def db(self) -> str:
        return self.config.database


async def eventually(check: Callable[[], Any], wait: float = 10.0, what: str = "") -> Any:
    """Wait until `check()` returns something truthy (and return it), or fail."""
    deadline = time.monotonic() + wait
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (AssertionError, IndexError, ValueError, KeyError) as exc:
            last = exc
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")


@asynccontextmanager
async def running_desk(
    database: str,
    *,
    mode: str = "topics",
    operators_list: bool = False,
    time_scale: float = 20.0,
    updates: str = "polling",
    notify_private: bool = False,
    per_group_per_minute: int = 20,
    extra_group: dict[str, Any] | None = None,
    other_groups: tuple[str, ...] = (),
    channels: dict[str, Any] | None = None,
    outbox: dict[str, Any] | None = None,
    admins: tuple[str, ...] = (),
    settings: dict[str, Any] | None = None,
    bot_topics: bool = False,
) -> AsyncIterator[Desk]:
    """`admins`: first names ("Ann", "Bob", "Eve") of those in `groups.support.admins`;
    `settings`: more top-level config keys (`templates`, `texts`); `bot_topics`: the bot's
    threaded mode (topics in private chats, for `mode: private`)."""
    fake = FakeTelegram(
        limits=TelegramLimits(per_group_per_minute=per_group_per_minute, time_scale=time_scale)
    )
    fake.add_bot(TOKEN, username="talker_bot", topics_enabled=bot_topics)
    ann = fake.add_user("Ann", "Operator", username="ann")
    bob = fake.add_user("Bob", "Operator", username="bob")
    eve = fake.add_user("Eve", "Member", username="eve")
    customer = fake.add_user("Иван", "<b>Петров</b>", language_code="ru")
    group_id = fake.create_group(
        "Support", members=[ann, bob, eve], forum=(mode == "topics"), supergroup=True
    )
    # More operators' groups (Ann and Bob in each), served by no channel of the test.
    others = {
        name: fake.create_group(name, members=[ann, bob], forum=True, supergroup=True)
        for name in other_groups
    }
    root = web.Application()
    root.add_subapp("/telegram", fake.app)
    async with serving(root) as running:
        group: dict[str, Any] = {
            "chat_id": group_id,
            "mode": mode,
            "notify_private": notify_private,
            **(extra_group or {}),
        }
        if operators_list:
            group["operators"] = [ann.id, bob.id]
        if admins:
            by_name = {"Ann": ann.id, "Bob": bob.id, "Eve": eve.id}
            group["admins"] = [by_name[name] for name in admins]
        data: dict[str, Any] = {
            "language": "en",
            "database": database,
            "http": {"host": "127.0.0.1", "port": 8080, "public_url": "https://bridge.test"},
            "telegram": {
                "token": TOKEN,
                "api_url": running.base_url + "/telegram",
                "updates": updates,
                "webhook_secret": SECRET,
                "limits": {"per_group_per_minute": per_group_per_minute},
            },
            "groups": {
                "support": group,
                **{
                    name: {"chat_id": chat_id, "mode": "topics"}
                    for name, chat_id in others.items()
                },
            },
            "channels": channels or {"telegram": {"group": "support"}},
            **({"outbox": outbox} if outbox else {}),
            **(settings or {}),
        }
        config = parse_config(data, source="test")
        service = build_service(config, time_scale=time_scale, port=0)
        for component in service.components:
            if isinstance(component, UpdatesIntake):
                component.poll_timeout = 1  # the fake holds a long poll past our stop
        await service.start()
        try:
            yield Desk(
                fake,
                service,
                config,
                group_id,
                ann,
                bob,
                eve,
                customer,
                f"http://127.0.0.1:{service.port}",
                others,
            )
        finally:
            await service.stop()


async def accept_card(desk: Desk, by: Any, card: Any) -> Any:
    """`by` presses the card's Accept button; returns the answer the presser saw."""
    query = desk.fake.press(by, desk.group_id, card.message_id, card.callback_data[0])
    return await eventually(lambda: desk.fake.callback_answer(query))


async def accepted(desk: Desk, by: Any, first: str = "I need help") -> int:
    """The customer writes `first`, `by` accepts; returns the topic's thread id once the
    history is in it."""
    desk.fake.user_says(desk.customer, first)
    await accept_card(desk, by, await eventually(desk.card))
    topic = await eventually(lambda: [t for t in desk.fake.topics(desk.group_id) if not t.deleted])
    thread = topic[-1].thread_id
    await eventually(lambda: any(first in (m.text or "") for m in desk.topic_messages(thread)))
    return thread
