"""The fake Facebook Page's control API under `/_control/`.

POST /_control/users {psid?, first_name?, last_name?, profile?: ok|none|forbidden} → {psid}
POST /_control/messages {psid, text?, attachments?: [{type, url}]} → delivery
POST /_control/postbacks {psid, title, payload}, POST /_control/receipts {psid, kind}
POST /_control/block {psid}
POST /_control/webhook {url, verify_token} → {verified}
GET  /_control/received/{psid}, GET /_control/deliveries, GET /_control/avatar/{psid}.png
plus the common /_control/calls, /_control/faults, /_control/clock (window tests) and
/_control/chaos (random faults: sandbox/chaos.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.chaos import add_chaos_routes
from sandbox.common import Delivery, add_common_control_routes, mount_base, read_json_object

if TYPE_CHECKING:
    from sandbox.facebook.fake import FakeFacebook


def add_control_routes(app: web.Application, fake: FakeFacebook) -> None:
    add_common_control_routes(app, fake.calls, fake.faults, fake.clock)
    add_chaos_routes(app, fake.chaos)

    def guarded(
        action: Callable[[dict[str, Any]], Awaitable[Any]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            tail = request.path[request.path.index("/_control/") :]
            fake.public_url = fake.public_url or mount_base(request, tail)
            data = await read_json_object(request)
            try:
                result = await action(data)
            except (KeyError, ValueError, RuntimeError) as exc:
                raise web.HTTPBadRequest(text=f"{type(exc).__name__}: {exc}") from exc
            if isinstance(result, Delivery):
                result = {
                    "succeeded": result.succeeded,
                    "attempts": [{"status": a.status} for a in result.attempts],
                }
            return web.json_response(result)

        return handler

    async def add_user(data: dict[str, Any]) -> dict[str, Any]:
        psid = fake.add_user(
            data.get("psid"),
            str(data.get("first_name", "Messenger")),
            str(data.get("last_name", "User")),
            str(data.get("profile", "ok")),
        )
        return {"psid": psid}

    async def message(data: dict[str, Any]) -> Delivery:
        return await fake.customer_message(
            str(data["psid"]), data.get("text"), data.get("attachments")
        )

    async def postback(data: dict[str, Any]) -> Delivery:
        return await fake.customer_postback(
            str(data["psid"]), str(data["title"]), str(data["payload"])
        )

    async def receipt(data: dict[str, Any]) -> Delivery:
        return await fake.customer_receipt(str(data["psid"]), str(data["kind"]))

    async def block(data: dict[str, Any]) -> dict[str, Any]:
        fake.customer_blocks(str(data["psid"]))
        return {"ok": True}

    async def webhook(data: dict[str, Any]) -> dict[str, Any]:
        verified = await fake.verify_webhook(str(data["url"]), str(data["verify_token"]))
        return {"verified": verified}

    async def received(request: web.Request) -> web.Response:
        return web.json_response(fake.received(request.match_info["psid"]))

    async def deliveries(request: web.Request) -> web.Response:
        return web.json_response(fake.deliverer.as_json())

    async def avatar(request: web.Request) -> web.Response:
        from sandbox.vk.state import tiny_png

        return web.Response(body=tiny_png(), content_type="image/png")

    app.router.add_post("/_control/users", guarded(add_user))
    app.router.add_post("/_control/messages", guarded(message))
    app.router.add_post("/_control/postbacks", guarded(postback))
    app.router.add_post("/_control/receipts", guarded(receipt))
    app.router.add_post("/_control/block", guarded(block))
    app.router.add_post("/_control/webhook", guarded(webhook))
    app.router.add_get("/_control/received/{psid}", received)
    app.router.add_get("/_control/deliveries", deliveries)
    app.router.add_get("/_control/avatar/{psid}.png", avatar)
