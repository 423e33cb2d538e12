"""The widget across processes: a visitor connected to one process gets a reply another sent.

Two real services (every component `run` builds) share one PostgreSQL database and one fake
Telegram. The visitor talks to service 2 over real HTTP and keeps its WebSocket open there;
service 2 runs no outbox worker, so service 1's worker delivers the operator's reply. Before
the cross-process push (adapters/site/push.py), service 1's sender pushed only to the sockets
of its own process (none) and the visitor saw the reply only after reconnecting.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.site.push import SitePush
from app.config import parse_config
from app.service import Service
from app.wiring import build_service
from botapi.updates import UpdatesIntake
from sandbox.runner import serving
from sandbox.telegram.limits import TelegramLimits
from sandbox.telegram.server import FakeTelegram
from tests.adapters.contract.harness import eventually

pytestmark = pytest.mark.postgres

TOKEN = "123456:TEST-token_for_the_fake"
WIDGET, ORIGIN = "shop", "http://shop.test:8000"
SCALE = 20.0


def make_service(database: str, api_url: str, group_id: int) -> Service:
    data: dict[str, Any] = {
        "language": "en",
        "database": database,
        "http": {
            "host": "127.0.0.1",
            "port": 8080,
            "public_url": "https://bridge.test",
            "widget_secret": "widget-secret-for-the-process-tests-0123",
        },
        "telegram": {"token": TOKEN, "api_url": api_url, "updates": "polling"},
        "groups": {"support": {"chat_id": group_id}},
        "channels": {
            "telegram": {"group": "support"},
            "site": {
                "widgets": {WIDGET: {"group": "support", "title": "Shop", "origins": [ORIGIN]}}
            },
        },
    }
    service = build_service(parse_config(data, source="test"), time_scale=SCALE, port=0)
    for component in service.components:
        if isinstance(component, UpdatesIntake):
            component.poll_timeout = 1
    return service


def part(service: Service, kind: type) -> Any:
    return next(c for c in service.components if isinstance(c, kind))


async def test_a_reply_sent_by_one_process_reaches_a_socket_open_on_another(
    pg_url, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the widget's files folder of a PostgreSQL deployment
    fake = FakeTelegram(limits=TelegramLimits(time_scale=SCALE))
    fake.add_bot(TOKEN, username="talker_bot")
    ann = fake.add_user("Ann", "Operator")
    group_id = fake.create_group("Support", members=[ann], forum=True, supergroup=True)
    root = web.Application()
    root.add_subapp("/telegram", fake.app)
    async with serving(root) as running:
        api = running.base_url + "/telegram"
        first = make_service(pg_url, api, group_id)
        await first.start()
        second = make_service(pg_url, api, group_id)
        await second.start()
        try:
            await second.runtime.stop_worker()  # every row is sent by the first process
            assert part(second, SitePush).state().state == "running"
            base = f"http://127.0.0.1:{second.port}/widget/{WIDGET}"
            headers = {"Origin": ORIGIN}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{base}/visitors", headers=headers) as response:
                    token = (await response.json())["token"]
                auth = {**headers, "Authorization": f"Bearer {token}"}
                body = {"id": "msg000001", "text": "Where is my order?", "name": "Vera"}
                async with http.post(f"{base}/messages", json=body, headers=auth) as response:
                    assert response.status == 200, await response.text()
                ws = await http.ws_connect(f"{base}/ws?after=0", headers=headers)
                await ws.send_json({"type": "auth", "token": token})
                assert (await ws.receive_json(timeout=5))["type"] == "auth"
                seen = [await ws.receive_json(timeout=5) for _ in range(2)]
                assert [m["type"] for m in seen] == ["message", "ready"]

                card = await eventually(
                    lambda: [m for m in fake.chat_view(group_id) if m.kind == "photo"][-1],
                    what="the card",
                )
                fake.press(ann, group_id, card.message_id, card.callback_data[0])
                topic = (await eventually(lambda: fake.topics(group_id), what="a topic"))[0]
                await eventually(
                    lambda: any(
                        "Where is my order?" in (m.text or "")
                        for m in fake.chat_view(group_id, topic=topic.thread_id)
                    ),
                    what="the history in the topic",
                )
                fake.user_says(ann, "It ships today.", chat_id=group_id, topic=topic.thread_id)

                pushed = await ws.receive_json(timeout=10)  # no reconnect
                assert pushed["type"] == "message"
                assert pushed["message"]["from"] == "operator"
                assert pushed["message"]["text"] == "It ships today."
                assert isinstance(pushed["message"]["id"], int)
                await ws.close()
            assert part(second, SitePush).relayed == 1
        finally:
            await second.stop()
            await first.stop()
