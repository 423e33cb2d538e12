"""The fake Viber's control API under `/_control/`.

POST /_control/users {id?, name?, avatar?, country?, language?, subscribed?} → {id}
POST /_control/messages {user_id, text} or {user_id, message: {type, ...}} → delivery
POST /_control/subscribe {user_id}, /_control/unsubscribe {user_id}
POST /_control/conversation_started {user_id, context?} → delivery (answer = welcome message)
POST /_control/receipts {event: delivered|seen|failed, user_id, message_token, desc?}
POST /_control/webhook {url, event_types?} → same as set_webhook
GET  /_control/received/{user_id}, GET /_control/deliveries
plus the common /_control/calls, /_control/faults and /_control/clock, /_control/chaos.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.chaos import add_chaos_routes
from sandbox.common import Delivery, add_common_control_routes, read_json_object
from sandbox.viber.validation import ViberError

if TYPE_CHECKING:
    from sandbox.viber.fake import FakeViber


def _delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "succeeded": delivery.succeeded,
        "attempts": [{"status": a.status, "answer": a.answer} for a in delivery.attempts],
    }


def add_control_routes(app: web.Application, fake: FakeViber) -> None:
    add_common_control_routes(app, fake.calls, fake.faults, fake.clock)
    add_chaos_routes(app, fake.chaos)

    def guarded(
        action: Callable[[dict[str, Any]], Awaitable[Any]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            data = await read_json_object(request)
            try:
                result = await action(data)
            except (KeyError, ValueError, RuntimeError, ViberError) as exc:
                raise web.HTTPBadRequest(text=f"{type(exc).__name__}: {exc}") from exc
            if isinstance(result, Delivery):
                result = _delivery_json(result)
            return web.json_response(result)

        return handler

    async def add_user(data: dict[str, Any]) -> dict[str, Any]:
        user_id = fake.add_user(
            data.get("id"),
            str(data.get("name", "Viber User")),
            str(data.get("avatar", "")),
            str(data.get("country", "UA")),
            str(data.get("language", "uk")),
            bool(data.get("subscribed", False)),
        )
        return {"id": user_id}

    async def message(data: dict[str, Any]) -> Delivery:
        return await fake.customer_message(data["user_id"], data.get("text"), data.get("message"))

    async def subscribe(data: dict[str, Any]) -> Delivery:
        return await fake.customer_subscribes(data["user_id"])

    async def unsubscribe(data: dict[str, Any]) -> Delivery:
        return await fake.customer_unsubscribes(data["user_id"])

    async def started(data: dict[str, Any]) -> Delivery:
        return await fake.conversation_started(data["user_id"], str(data.get("context", "")))

    async def receipt(data: dict[str, Any]) -> Delivery:
        return await fake.receipt(
            data["event"], data["user_id"], int(data["message_token"]), str(data.get("desc", ""))
        )

    async def webhook(data: dict[str, Any]) -> dict[str, Any]:
        await fake.set_webhook(str(data["url"]), data.get("event_types"))
        return {"webhook": fake.webhook_url}

    async def received(request: web.Request) -> web.Response:
        return web.json_response(fake.received(request.match_info["user_id"]))

    async def deliveries(request: web.Request) -> web.Response:
        return web.json_response(fake.deliverer.as_json())

    app.router.add_post("/_control/users", guarded(add_user))
    app.router.add_post("/_control/messages", guarded(message))
    app.router.add_post("/_control/subscribe", guarded(subscribe))
    app.router.add_post("/_control/unsubscribe", guarded(unsubscribe))
    app.router.add_post("/_control/conversation_started", guarded(started))
    app.router.add_post("/_control/receipts", guarded(receipt))
    app.router.add_post("/_control/webhook", guarded(webhook))
    app.router.add_get("/_control/received/{user_id}", received)
    app.router.add_get("/_control/deliveries", deliveries)
