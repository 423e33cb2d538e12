"""The fake VK's control API under `/_control/`: drive customers, faults, read what was sent.

POST /_control/users {user_id, first_name, last_name, deactivated?}
POST /_control/messages {user_id, text?, attachments?: ["photo", "doc", ...]} → the message
POST /_control/edits {user_id, message_id, text}
POST /_control/allow {user_id}, POST /_control/deny {user_id}
GET  /_control/received/{user_id} → messages the community sent to that user
POST /_control/callback {url, secret?} → adds a callback server and confirms it
POST /_control/longpoll_failure {failed: 1|2|3}
GET  /_control/deliveries → callback deliveries and their attempts
plus the common /_control/calls, /_control/faults and /_control/clock, and /_control/chaos
(random 5xx, timeouts and rate errors: sandbox/chaos.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.chaos import add_chaos_routes
from sandbox.common import add_common_control_routes, mount_base, read_json_object

if TYPE_CHECKING:
    from sandbox.vk.fake import FakeVK


def _int(data: dict[str, Any], key: str) -> int:
    try:
        return int(data[key])
    except (KeyError, TypeError, ValueError):
        raise web.HTTPBadRequest(text=f"{key} (integer) is required") from None


def add_control_routes(app: web.Application, fake: FakeVK) -> None:
    add_common_control_routes(app, fake.calls, fake.faults, fake.clock)
    add_chaos_routes(app, fake.chaos)

    def learn_base(request: web.Request) -> None:
        tail = request.path[request.path.index("/_control/") :]
        fake.public_url = fake.public_url or mount_base(request, tail)

    async def post_user(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        try:
            user = fake.add_user(
                _int(data, "user_id"),
                str(data.get("first_name", "")),
                str(data.get("last_name", "")),
                data.get("deactivated"),
            )
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response({"id": user.id})

    async def post_message(request: web.Request) -> web.Response:
        learn_base(request)
        data = await read_json_object(request)
        try:
            message = await fake.customer_message(
                _int(data, "user_id"), str(data.get("text", "")), list(data.get("attachments", []))
            )
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response(message)

    async def post_edit(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        try:
            message = await fake.customer_edits(
                _int(data, "user_id"), _int(data, "message_id"), str(data.get("text", ""))
            )
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response(message)

    async def post_allow(request: web.Request) -> web.Response:
        await fake.customer_allows(_int(await read_json_object(request), "user_id"))
        return web.json_response({"ok": True})

    async def post_deny(request: web.Request) -> web.Response:
        await fake.customer_denies(_int(await read_json_object(request), "user_id"))
        return web.json_response({"ok": True})

    async def get_received(request: web.Request) -> web.Response:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise web.HTTPBadRequest(text="user_id must be an integer") from None
        return web.json_response(fake.received(user_id))

    async def post_callback(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        if not data.get("url"):
            raise web.HTTPBadRequest(text="url is required")
        confirmed = await fake.set_callback(str(data["url"]), str(data.get("secret", "")))
        return web.json_response({"confirmed": confirmed, "code": fake.state.confirmation_code})

    async def post_longpoll_failure(request: web.Request) -> web.Response:
        try:
            fake.longpoll.force_failure(_int(await read_json_object(request), "failed"))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response({"ok": True})

    async def get_deliveries(request: web.Request) -> web.Response:
        return web.json_response(fake.callbacks.as_json())

    app.router.add_post("/_control/users", post_user)
    app.router.add_post("/_control/messages", post_message)
    app.router.add_post("/_control/edits", post_edit)
    app.router.add_post("/_control/allow", post_allow)
    app.router.add_post("/_control/deny", post_deny)
    app.router.add_get("/_control/received/{user_id}", get_received)
    app.router.add_post("/_control/callback", post_callback)
    app.router.add_post("/_control/longpoll_failure", post_longpoll_failure)
    app.router.add_get("/_control/deliveries", get_deliveries)
