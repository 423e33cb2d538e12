"""getUpdates and webhook delivery: order, secret header, retries with backoff, 409 conflict."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from sandbox.runner import free_port, serving
from tests.sandbox.telegram.conftest import Served


class Receiver:
    """A webhook endpoint that fails its first `failures` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.seen: list[tuple[str | None, dict[str, Any]]] = []
        self.got_all = asyncio.Event()
        self.expected = 0
        self.app = web.Application()
        self.app.router.add_post("/hook", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=500)
        accepted = [u for _, u in self.seen]
        if len({u["update_id"] for u in accepted}) >= self.expected:
            self.got_all.set()
        return web.json_response({})


async def test_webhook_delivers_in_order_with_secret_and_retries(served: Served) -> None:
    user = served.fake.add_user("Ann")
    receiver = Receiver(failures=2)
    receiver.expected = 3
    async with serving(receiver.app) as hook:
        status, _ = await served.post(
            "setWebhook", json={"url": f"{hook.base_url}/hook", "secret_token": "s3cr3t_-"}
        )
        for text in ("one", "two", "three"):
            served.fake.user_says(user, text)
        await asyncio.wait_for(receiver.got_all.wait(), 5)
        _, info = await served.post("getWebhookInfo")

    assert status == 200
    texts = [u["message"]["text"] for _, u in receiver.seen]
    assert texts == ["one", "one", "one", "two", "three"]  # two failures retried, order kept
    assert {secret for secret, _ in receiver.seen} == {"s3cr3t_-"}
    assert info["result"]["pending_update_count"] == 0
    assert "500" in info["result"]["last_error_message"]


async def test_webhook_retries_while_the_endpoint_is_down(served: Served) -> None:
    user = served.fake.add_user("Ann")
    port = free_port()
    await served.post("setWebhook", json={"url": f"http://127.0.0.1:{port}/hook"})
    served.fake.user_says(user, "while you were away")
    await asyncio.sleep(0.2)  # at least one refused connection
    receiver = Receiver()
    receiver.expected = 1

    async with serving(receiver.app, port=port):
        await asyncio.wait_for(receiver.got_all.wait(), 5)

    assert [u["message"]["text"] for _, u in receiver.seen] == ["while you were away"]


async def test_get_updates_conflicts_with_an_active_webhook(served: Served) -> None:
    await served.post("setWebhook", json={"url": "http://127.0.0.1:9/hook"})

    status, payload = await served.post("getUpdates")
    await served.post("deleteWebhook", json={"drop_pending_updates": True})
    status_after, after = await served.post("getUpdates")

    assert status == 409
    assert payload["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )
    assert (status_after, after["result"]) == (200, [])


async def test_offset_limit_and_allowed_updates(served: Served) -> None:
    user = served.fake.add_user("Ann")
    for i in range(5):
        served.fake.user_says(user, f"m{i}")

    _, first = await served.post("getUpdates", json={"limit": 2})
    last = first["result"][-1]["update_id"]
    _, rest = await served.post("getUpdates", json={"offset": last + 1, "limit": 100})
    await served.post("getUpdates", json={"offset": -1, "allowed_updates": ["callback_query"]})
    served.fake.user_says(user, "filtered out")
    _, filtered = await served.post("getUpdates", json={"offset": -1})

    assert [u["message"]["text"] for u in first["result"]] == ["m0", "m1"]
    assert [u["message"]["text"] for u in rest["result"]] == ["m2", "m3", "m4"]
    assert [u["message"]["text"] for u in filtered["result"]] == ["m4"]


async def test_long_poll_returns_empty_after_its_timeout(served: Served) -> None:
    status, payload = await served.post("getUpdates", json={"timeout": 0.2})
    # 0.2 is not an Integer: Telegram-style rejection
    assert status == 400
    status, payload = await served.post("getUpdates", json={"timeout": 1})
    assert (status, payload["result"]) == (200, [])


async def test_member_join_and_bot_blocking_produce_updates(served: Served) -> None:
    user = served.fake.add_user("Ann")
    forum = served.fake.create_forum()
    await served.post(
        "getUpdates", json={"allowed_updates": ["message", "my_chat_member", "chat_member"]}
    )
    served.fake.join(user, forum)
    served.fake.user_says(user, "hi")
    served.fake.block(user)

    _, payload = await served.post("getUpdates")
    kinds = [next(k for k in u if k != "update_id") for u in payload["result"]]

    assert kinds[-4:] == ["chat_member", "message", "message", "my_chat_member"]
    assert payload["result"][-4]["chat_member"]["new_chat_member"]["status"] == "member"
    assert payload["result"][-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
