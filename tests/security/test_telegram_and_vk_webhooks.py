"""Forged secrets and replays on the Telegram webhook (the whole service) and VK's callback:
a wrong or missing secret is 403 and changes nothing; an update posted again with the right
secret is acknowledged and stored once."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import select

from adapters.vk.callback import VkCallback
from sandbox.runner import serving
from storage.models import Message
from tests.desk.desk_harness import SECRET as TELEGRAM_SECRET
from tests.desk.desk_harness import running_desk
from tests.security.abuse import Ledger

REPLAYS = 20


def _update(update_id: int, text: str) -> bytes:
    user = {"id": 777001, "is_bot": False, "first_name": "Rex"}
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": 5,
                "date": int(time.time()),
                "chat": {"id": 777001, "type": "private", "first_name": "Rex"},
                "from": user,
                "text": text,
            },
        }
    ).encode()


async def _messages(desk: Any, text: str) -> list[Message]:
    async with desk.service.runtime.sessions() as session:
        rows = (await session.exec(select(Message))).all()
    return [m for m in rows if m.text == text]


async def test_the_telegram_webhook_refuses_forged_secrets_and_stores_a_replay_once(
    sqlite_url: str, ledger: Ledger
) -> None:
    forged_row = ledger.attack("forged secrets on the Telegram webhook")
    replay_row = ledger.attack("replayed Telegram webhook updates")
    async with running_desk(sqlite_url, updates="webhook") as desk:
        url = f"{desk.base_url}/webhooks/telegram"
        async with aiohttp.ClientSession() as http:
            forged = _update(900, "forged")
            for secret in (None, "", "wrong-secret", TELEGRAM_SECRET[:-1], TELEGRAM_SECRET + "x"):
                headers = {"Content-Type": "application/json"}
                if secret is not None:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                async with http.post(url, data=forged, headers=headers) as response:
                    forged_row.count(response.status, succeeded=response.status < 400)
            genuine = _update(901, "replayed once")
            headers = {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
            }
            statuses = []
            for _ in range(REPLAYS):
                async with http.post(url, data=genuine, headers=headers) as response:
                    statuses.append(response.status)
        stored = await _messages(desk, "replayed once")
        replay_row.statuses(statuses, succeeded=max(0, len(stored) - 1))
        forged_row.succeeded += len(await _messages(desk, "forged"))
    assert forged_row.succeeded == 0 and forged_row.server_errors == 0
    assert set(statuses) == {200} and len(stored) == 1


async def test_the_vk_callback_refuses_forged_secrets(ledger: Ledger) -> None:
    row = ledger.attack("forged secrets on the VK callback")
    handled: list[Any] = []

    async def handle(item: Any) -> None:
        handled.append(item)

    app = web.Application()
    app.add_routes(VkCallback(42, "vk-callback-secret", "confirm", handle).routes())
    async with serving(app) as running, aiohttp.ClientSession() as http:
        for secret in (None, "", "vk-callback-secre", "VK-CALLBACK-SECRET", "x" * 1000):
            body: dict[str, Any] = {
                "type": "message_new",
                "group_id": 42,
                "event_id": f"e{len(str(secret))}",
                "object": {"message": {"from_id": 1, "peer_id": 1, "text": "forged", "id": 1}},
            }
            if secret is not None:
                body["secret"] = secret
            async with http.post(f"{running.base_url}/webhooks/vk", json=body) as response:
                row.count(response.status, succeeded=response.status < 400)
        # A callback for another community, with our secret, is refused as well.
        body = {"type": "message_new", "group_id": 43, "secret": "vk-callback-secret"}
        async with http.post(f"{running.base_url}/webhooks/vk", json=body) as response:
            row.count(response.status, succeeded=response.status < 400)
    row.succeeded += len(handled)
    assert row.succeeded == 0 and row.server_errors == 0
