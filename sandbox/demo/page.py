"""The /demo page and its small JSON API over the fakes' control methods.

Routes that the composition root (app/demo.py) adds to the demo's one bridge server:

    GET  /demo                                   the page (static/index.html)
    GET  /demo/static/...                        its CSS and JS
    GET  /demo/api/state?platform=&customer=     group, customers, one customer's chat, channels
    POST /demo/api/group/messages                {operator_id, text, topic?, chat?}
    POST /demo/api/group/presses                 {operator_id, message_id, data, chat?} -> {answer}
    POST /demo/api/customers                     {platform, name} -> customer
    POST /demo/api/customers/{platform}/{id}/messages   {text}
    GET  /demo/api/files/{file_id}               a photo from the fake Telegram's file store

`chat: "private"` writes (or presses) in the operator's private chat with the bot instead of the
group: in `mode: private` (`talker-bridge demo --mode private`) an accepted conversation goes on
in a topic there, and the state has each operator's private chat under `private`.

The state also has the bot's name (`bot`), the group's pace (`pace`: posts a minute and
seconds between two refreshes of the pinned counters, as the running bridge uses them), and
marks the topics of guests (customers whose name is unknown: a grey icon, like their avatar).

Bad input answers 400 `{"error": "..."}` with a sentence the page shows as is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from sandbox.demo.customers import MAX_TEXT, CustomerSimulator, DemoInputError
from sandbox.demo.group_view import bot_name, file_bytes, group_view, private_view

if TYPE_CHECKING:
    from sandbox.server import Sandbox
    from sandbox.telegram import FakeUser

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
PRIVATE = "private"  # the group mode in which a conversation goes on in a private chat
PRESS_ANSWER_WAIT = 3.0  # seconds to wait for the bot's answer to a pressed button
GUEST_LOOKUPS = 5  # messages of a topic asked about before it counts as not a guest's (yet)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Whether message (chat id, message id) belongs to a guest's conversation (None: to none).
GuestCheck = Callable[[int, int], Awaitable[bool | None]]


class ChannelState(Protocol):
    """What the page shows of a channel (the service's /healthz state of it)."""

    @property
    def state(self) -> str: ...

    @property
    def detail(self) -> str: ...


class DemoPage:
    """Serves the demo page; holds no resources."""

    def __init__(
        self,
        sandbox: Sandbox,
        customers: CustomerSimulator,
        *,
        widget_id: str,
        channel_states: Callable[[], Mapping[str, ChannelState]] | None = None,
        notes: dict[str, str] | None = None,
        mode: str = "topics",
        pace: Mapping[str, float] | None = None,
        guest_check: GuestCheck | None = None,
    ) -> None:
        """`mode`: the demo group's `mode` (topics, replies or private), shown by the page.
        `pace`: `{"per_minute": posts, "counters_every": seconds}` of the group, told to the
        visitor after an Accept. `guest_check` tells guests' topics (none without it)."""
        self.mode = mode
        self.pace = dict(pace or {})
        self.guest_check = guest_check
        self._guests: dict[tuple[int, int, str], bool] = {}  # (chat, topic, its name) -> guest?
        self.sandbox = sandbox
        self.customers = customers
        self.widget_id = widget_id
        self.channel_states = channel_states
        self.notes = notes if notes is not None else {}

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/demo", self.index),
            web.get("/demo/", self.index),
            web.static("/demo/static", STATIC),
            web.get("/demo/api/state", _guarded(self.get_state)),
            web.post("/demo/api/group/messages", _guarded(self.post_group_message)),
            web.post("/demo/api/group/presses", _guarded(self.post_press)),
            web.post("/demo/api/customers", _guarded(self.post_customer)),
            web.post(
                "/demo/api/customers/{platform}/{customer_id}/messages",
                _guarded(self.post_customer_message),
            ),
            web.get("/demo/api/files/{file_id}", self.get_file),
        ]

    async def _mark_guests(self, chat: dict[str, Any]) -> None:
        """Set each topic's `guest`. Known per topic name: a guest whose name is learned gets
        a topic renamed, which asks again."""
        for topic in chat["topics"]:
            thread = topic["thread_id"]
            key = (chat["chat_id"], thread, topic["name"])
            if key not in self._guests and self.guest_check is not None:
                asked = [
                    m["id"] for m in chat["messages"] if m["topic"] == thread and not m["service"]
                ]
                for message_id in asked[:GUEST_LOOKUPS]:
                    guest = await self.guest_check(chat["chat_id"], message_id)
                    if guest is not None:
                        self._guests[key] = guest
                        break
            topic["guest"] = self._guests.get(key, False)

    # --- handlers ------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = html.replace("__WIDGET_ID__", self.widget_id)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )

    async def get_state(self, request: web.Request) -> web.Response:
        telegram = self.sandbox.telegram
        platform = request.query.get("platform", "")
        customer_id = request.query.get("customer", "")
        transcript: list[dict[str, Any]] = []
        if platform and customer_id:
            transcript = self.customers.transcript(platform, customer_id)
        channels = {}
        if self.channel_states is not None:
            channels = {
                name: {"state": state.state, "detail": self.notes.get(name, state.detail)}
                for name, state in self.channel_states().items()
            }
        group = group_view(telegram, self.sandbox.group_chat_id)
        await self._mark_guests(group)
        body = {
            "mode": self.mode,
            "bot": {"name": bot_name(telegram)},
            "pace": self.pace,
            "group": group,
            "operators": [{"id": u.id, "name": u.first_name} for u in self.sandbox.operators],
            "customers": self.customers.listing(),
            "transcript": transcript,
            "channels": channels,
            "widget_id": self.widget_id,
        }
        if self.mode == PRIVATE:
            private = {str(u.id): private_view(telegram, u) for u in self.sandbox.operators}
            for chat in private.values():
                await self._mark_guests(chat)
            body["private"] = private
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def post_group_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        operator = self._operator(body)
        text = str(body.get("text") or "").strip()
        if not text:
            raise DemoInputError("write something first")
        if len(text) > MAX_TEXT:
            raise DemoInputError(f"a message has at most {MAX_TEXT} characters")
        topic = body.get("topic")
        entities = []
        if text.startswith("/"):
            command = text.split()[0]
            entities.append({"type": "bot_command", "offset": 0, "length": len(command)})
        message = self.sandbox.telegram.user_says(
            operator,
            text,
            chat_id=self._chat(body, operator),
            topic=int(topic) if topic else None,
            entities=entities,
        )
        return web.json_response({"message_id": message["message_id"]})

    async def post_press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        operator = self._operator(body)
        telegram = self.sandbox.telegram
        query_id = telegram.press(
            operator, self._chat(body, operator), _int(body, "message_id"), str(body.get("data"))
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PRESS_ANSWER_WAIT
        answer = telegram.callback_answer(query_id)
        while answer is None and loop.time() < deadline:
            await asyncio.sleep(0.05)
            answer = telegram.callback_answer(query_id)
        return web.json_response({"answer": answer})

    async def post_customer(self, request: web.Request) -> web.Response:
        body = await _body(request)
        customer = self.customers.create(str(body.get("platform", "")), str(body.get("name", "")))
        return web.json_response(customer.summary())

    async def post_customer_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        await self.customers.say(
            request.match_info["platform"],
            request.match_info["customer_id"],
            str(body.get("text") or ""),
        )
        return web.json_response({"ok": True})

    async def get_file(self, request: web.Request) -> web.StreamResponse:
        found = file_bytes(self.sandbox.telegram, request.match_info["file_id"])
        if found is None:
            raise web.HTTPNotFound(text="no such file")
        data, content_type = found
        return web.Response(
            body=data,
            content_type=content_type,
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    def _chat(self, body: dict[str, Any], operator: FakeUser) -> int:
        """The chat a message or press goes to: the group, or `chat: "private"`: the
        operator's private chat with the bot (its id is the operator's)."""
        chat = body.get("chat") or "group"
        if chat == "group":
            return self.sandbox.group_chat_id
        if chat == "private" and self.mode == PRIVATE:
            return operator.id
        raise DemoInputError(
            'chat must be "group", or "private" when the group is in private mode'
        )

    def _operator(self, body: dict[str, Any]) -> FakeUser:
        operator_id = _int(body, "operator_id")
        for operator in self.sandbox.operators:
            if operator.id == operator_id:
                return operator
        raise DemoInputError(f"{operator_id} is not one of the demo's operators")


def _guarded(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (DemoInputError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)

    return run


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as error:
        raise DemoInputError("the body must be a JSON object") from error
    if not isinstance(body, dict):
        raise DemoInputError("the body must be a JSON object")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    try:
        return int(body[name])
    except (KeyError, TypeError, ValueError):
        raise DemoInputError(f"{name} must be a number") from None
