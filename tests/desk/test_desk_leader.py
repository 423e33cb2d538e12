"""Two bridge processes on one PostgreSQL database: one polls getUpdates, the other stands by.

Both run the real service (outbox worker, dashboards, updates intake) against one fake
Telegram; leader election is the PostgreSQL advisory lock of bridge/leader.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from desk_harness import TOKEN, eventually

from app.config import parse_config
from app.service import Service
from app.wiring import build_service
from botapi.updates import UpdatesIntake
from desk.dashboard import Dashboards
from sandbox.runner import serving
from sandbox.telegram.limits import TelegramLimits
from sandbox.telegram.server import FakeTelegram

TIME_SCALE = 20.0


def make_service(database: str, api_url: str, group_id: int) -> Service:
    data: dict[str, Any] = {
        "language": "en",
        "database": database,
        "http": {"host": "127.0.0.1", "port": 8080, "public_url": "https://bridge.test"},
        "telegram": {"token": TOKEN, "api_url": api_url, "updates": "polling"},
        "groups": {"support": {"chat_id": group_id}},
        "channels": {"telegram": {"group": "support"}},
    }
    config = parse_config(data, source="test")
    service = build_service(config, time_scale=TIME_SCALE, port=0)
    for component in service.components:
        if isinstance(component, UpdatesIntake):
            component.poll_timeout = 1
    return service


def part(service: Service, kind: type) -> Any:
    return next(c for c in service.components if isinstance(c, kind))


async def test_one_of_two_processes_polls_and_the_other_takes_over(pg_url) -> None:
    fake = FakeTelegram(limits=TelegramLimits(time_scale=TIME_SCALE))
    fake.add_bot(TOKEN, username="talker_bot")
    ann = fake.add_user("Ann", "Operator")
    customer = fake.add_user("Carol")
    group_id = fake.create_group("Support", members=[ann], forum=True, supergroup=True)
    root = web.Application()
    root.add_subapp("/telegram", fake.app)
    async with serving(root) as running:
        api = running.base_url + "/telegram"
        first = make_service(pg_url, api, group_id)
        await first.start()
        await eventually(lambda: part(first, UpdatesIntake).is_polling, what="first polls")
        second = make_service(pg_url, api, group_id)
        await second.start()
        stopped_first = False
        try:
            intakes = [part(first, UpdatesIntake), part(second, UpdatesIntake)]
            fake.user_says(customer, "hello from one")
            await eventually(
                lambda: [m for m in fake.chat_view(group_id) if m.kind == "photo"], what="card"
            )
            await asyncio.sleep(0.5)  # the standby retries the lock several times meanwhile
            assert [i.is_polling for i in intakes] == [True, False]
            assert intakes[0].handled >= 1 and intakes[1].handled == 0
            assert "standby" in intakes[1].state().detail
            assert "standby" in part(second, Dashboards).state().detail

            await first.stop()  # the leader goes away: the standby takes over
            stopped_first = True
            await eventually(lambda: intakes[1].is_polling, wait=5, what="takeover")
            fake.user_says(customer, "hello again")
            await eventually(
                lambda: any(
                    "hello again" in (m.caption or "")
                    for m in fake.chat_view(group_id)
                    if m.kind == "photo"
                ),
                what="the second message folded into the card by the new leader",
            )
            assert intakes[1].handled == 1  # only the new update: the offset was shared
            # The dashboards moved too: the new leader keeps the pinned counters.
            assert part(second, Dashboards).state().detail == ""
        finally:
            await second.stop()
            if not stopped_first:
                await first.stop()
