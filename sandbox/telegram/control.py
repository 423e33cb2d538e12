"""The control API (not Telegram's): drive the fake over HTTP under `/_control/`.

JSON in, JSON out; a bad request answers 400 `{"error": "..."}`. Routes:

    POST /_control/bots            {token, username?}                  -> user
    POST /_control/users           {first_name, last_name?, username?}  -> user
    POST /_control/groups          {title, forum?, supergroup?, member_ids?, admin_ids?}
                                                                         -> {chat_id}
    POST /_control/messages        {user_id, kind?=text, text?, chat_id?, topic?, reply_to?,
                                    caption?, data_base64?, filename?, latitude?, longitude?,
                                    phone_number?, first_name?, emoji?, duration?} -> message
    POST /_control/edits           {user_id, chat_id, message_id, text} -> message
    POST /_control/presses         {user_id, chat_id, message_id, data} -> {callback_query_id}
    GET  /_control/callbacks/{id}                                        -> {answer}
    POST /_control/members         {user_id, chat_id, action: join|leave} -> message
    POST /_control/blocks          {user_id, blocked: true|false}        -> {}
    GET  /_control/calls?method=                                         -> [call]
    GET  /_control/chats/{chat_id}?topic=             -> {messages, topics, pinned}
    POST /_control/faults          {kind: error|hang|throttle, n?, method?, status?, seconds?,
                                    retry_after?}                        -> {}
    GET  /_control/stats                                                 -> {too_many_requests}
    POST|GET|DELETE /_control/chaos  random 5xx, timeouts and 429s (sandbox/chaos.py)
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.chaos import add_chaos_routes
from sandbox.telegram.errors import ApiError
from sandbox.telegram.shapes import user_json

if TYPE_CHECKING:
    from sandbox.telegram.server import FakeTelegram

Route = Callable[[web.Request], Awaitable[web.Response]]


def add_control_routes(app: web.Application, fake: FakeTelegram) -> None:
    control = _Control(fake)
    routes = [
        ("POST", "/_control/bots", control.add_bot),
        ("POST", "/_control/users", control.add_user),
        ("POST", "/_control/groups", control.create_group),
        ("POST", "/_control/messages", control.message),
        ("POST", "/_control/edits", control.edit),
        ("POST", "/_control/presses", control.press),
        ("GET", "/_control/callbacks/{query_id}", control.callback),
        ("POST", "/_control/members", control.member),
        ("POST", "/_control/blocks", control.block),
        ("GET", "/_control/calls", control.calls),
        ("GET", "/_control/chats/{chat_id}", control.chat),
        ("POST", "/_control/faults", control.fault),
        ("POST", "/_control/update-ids", control.restart_update_ids),
        ("GET", "/_control/stats", control.stats),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _guarded(handler))
    add_chaos_routes(app, fake.chaos)


def _guarded(handler: Route) -> Route:
    async def run(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except (ValueError, KeyError, TypeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        except ApiError as error:
            return web.json_response({"error": error.description}, status=400)

    return run


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as error:
        raise ValueError("the body must be a JSON object") from error
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    if name not in body:
        raise ValueError(f"{name} is required")
    return int(body[name])


class _Control:
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    def _user(self, body: dict[str, Any]):
        user_id = _int(body, "user_id")
        user = self.fake.world.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}")
        return user

    async def add_bot(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self.fake.add_bot(
            body["token"],
            username=body.get("username", "fake_bot"),
            topics_enabled=bool(body.get("topics_enabled", False)),
        )
        return web.json_response(user_json(user))

    async def add_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self.fake.add_user(
            body.get("first_name", "User"),
            body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code", "en"),
        )
        return web.json_response(user_json(user))

    async def create_group(self, request: web.Request) -> web.Response:
        body = await _body(request)
        users = self.fake.world.users
        members = [users[int(i)] for i in body.get("member_ids", [])]
        admins = [users[int(i)] for i in body.get("admin_ids", [])]
        chat_id = self.fake.create_group(
            body.get("title", "Operators"),
            members=members,
            admins=admins,
            forum=bool(body.get("forum", False)),
            supergroup=bool(body.get("supergroup", True)),
        )
        return web.json_response({"chat_id": chat_id})

    async def message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._user(body)
        where = {k: body[k] for k in ("chat_id", "topic", "reply_to") if body.get(k) is not None}
        kind = body.get("kind", "text")
        data = base64.b64decode(body["data_base64"]) if body.get("data_base64") else None
        fake = self.fake
        if kind == "text":
            result = fake.user_says(user, body.get("text", ""), **where)
        elif kind == "photo":
            result = fake.user_sends_photo(user, data, caption=body.get("caption"), **where)
        elif kind == "document":
            result = fake.user_sends_document(
                user,
                data or b"",
                body.get("filename", "file.txt"),
                caption=body.get("caption"),
                **where,
            )
        elif kind == "voice":
            result = fake.user_sends_voice(
                user, data or b"OggS", int(body.get("duration", 1)), **where
            )
        elif kind == "video":
            result = fake.user_sends_video(
                user,
                data or b"\x00\x00\x00\x18ftypmp42",
                body.get("filename", "video.mp4"),
                caption=body.get("caption"),
                duration=int(body.get("duration", 1)),
                **where,
            )
        elif kind == "sticker":
            result = fake.user_sends_sticker(user, body.get("emoji", "👍"), data, **where)
        elif kind == "location":
            result = fake.user_sends_location(
                user, float(body["latitude"]), float(body["longitude"]), **where
            )
        elif kind == "contact":
            result = fake.user_sends_contact(
                user, body["phone_number"], body.get("first_name", user.first_name), **where
            )
        else:
            raise ValueError(f"unknown message kind {kind!r}")
        return web.json_response(result)

    async def edit(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = self.fake.user_edits(
            self._user(body), _int(body, "chat_id"), _int(body, "message_id"), body["text"]
        )
        return web.json_response(result)

    async def press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        query_id = self.fake.press(
            self._user(body), _int(body, "chat_id"), _int(body, "message_id"), body["data"]
        )
        return web.json_response({"callback_query_id": query_id})

    async def callback(self, request: web.Request) -> web.Response:
        answer = self.fake.callback_answer(request.match_info["query_id"])
        return web.json_response({"answer": answer})

    async def member(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user, chat_id = self._user(body), _int(body, "chat_id")
        action = body.get("action")
        if action == "join":
            return web.json_response(self.fake.join(user, chat_id))
        if action == "leave":
            return web.json_response(self.fake.leave(user, chat_id))
        raise ValueError("action must be join or leave")

    async def block(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._user(body)
        if body.get("blocked", True):
            self.fake.block(user)
        else:
            self.fake.unblock(user)
        return web.json_response({})

    async def calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        records = [asdict(c) for c in self.fake.calls(method)]
        return web.json_response(records, dumps=_dumps)

    async def chat(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        topic = request.query.get("topic")
        messages = self.fake.chat_view(chat_id, int(topic) if topic else None)
        topics = self.fake.topics(chat_id) if chat_id < 0 else []
        return web.json_response(
            {
                "messages": [m.as_dict() for m in messages],
                "topics": [t.as_dict() for t in topics],
                "pinned": self.fake.pinned(chat_id),
            }
        )

    async def fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        n, method, kind = int(body.get("n", 1)), body.get("method"), body.get("kind", "error")
        if kind == "error":
            self.fake.fail_next(n, int(body.get("status", 500)), method, body.get("description"))
        elif kind == "hang":
            self.fake.hang_next(n, float(body.get("seconds", 30)), method)
        elif kind == "throttle":
            self.fake.throttle_next(n, int(body.get("retry_after", 5)), method)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        return web.json_response({})

    async def restart_update_ids(self, request: web.Request) -> web.Response:
        """{"bot_id", "first"?}: restart the bot's update ids (random and lower by default)."""
        body = await _body(request)
        first = body.get("first")
        next_id = self.fake.restart_update_ids(
            _int(body, "bot_id"), None if first is None else int(first)
        )
        return web.json_response({"next_update_id": next_id})

    async def stats(self, request: web.Request) -> web.Response:
        counters = self.fake.too_many_requests
        return web.json_response(
            {"too_many_requests": {**asdict(counters), "total": counters.total}}
        )


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
