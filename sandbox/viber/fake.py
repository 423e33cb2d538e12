"""FakeViber: a Viber bot account over real HTTP — the REST API under `/pa/` and signed callbacks.

Every endpoint is `POST /pa/<endpoint>` with a JSON body; the token comes in the
`X-Viber-Auth-Token` header or, as viberbot sends it, as `auth_token` in the body. Errors are
HTTP 200 with a non-zero `status`. Callbacks carry `X-Viber-Content-Signature` (hex
HMAC-SHA256 of the raw body keyed with the token) and are retried until the webhook answers 200.

Limits (counted on the injectable clock; periods multiplied by `time_scale`): at most
`messages_without_reply` (100) messages per user per hour until the user writes again, and
`user_details_per_window` (2) get_user_details per user per 12 hours — both answer status 12.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
from collections import deque
from typing import Any

from aiohttp import web

from sandbox.chaos import (
    ERROR,
    THROTTLE,
    Chaos,
    ChaosSettings,
    Injection,
    drop_connection,
    plain_http_fault,
)
from sandbox.common import CallLog, Clock, Deliverer, Delivery, FaultPlan
from sandbox.viber.validation import MAX_BODY_BYTES, ViberError, check_message

HOUR = 3600.0
USER_DETAILS_WINDOW = 12 * HOUR
ALWAYS_SENT = ("message", "subscribed", "unsubscribed")
OPTIONAL_EVENTS = ("delivered", "seen", "failed", "conversation_started")
#: What `set_webhook`'s `event_types` may name (Viber's own example names all six);
#: subscribed and unsubscribed are sent whether named or not.
EVENT_TYPE_NAMES = (
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
)
CHAT_HOSTNAME = "SN-CHAT-01_"
FIRST_MESSAGE_TOKEN = 5_491_174_000_000_000_000  # beyond 2**53, as real tokens are


def sign(token: str, body: bytes) -> str:
    """Viber's callback signature: lowercase hex HMAC-SHA256 of the raw body keyed by the token."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class FakeViber:
    """One Viber bot; users and their actions are driven from Python or `/_control/`."""

    def __init__(
        self,
        token: str = "viber-token",
        name: str = "Talker Support",
        time_scale: float = 1.0,
        clock: Clock | None = None,
        messages_without_reply: int = 100,
        user_details_per_window: int = 2,
        delivery_attempts: int = 5,
        chaos: ChaosSettings | None = None,
    ) -> None:
        self.token = token
        self.name = name
        self.time_scale = time_scale
        self.clock = clock or Clock()
        self.messages_without_reply = messages_without_reply
        self.user_details_per_window = user_details_per_window
        self.calls = CallLog()
        self.faults = FaultPlan()
        #: Random 5xx, timeouts and status 12 (off unless configured; see sandbox/chaos.py).
        self.chaos = Chaos(chaos)
        self.users: dict[str, dict[str, Any]] = {}
        self.subscribed: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self.webhook_url = ""
        self.public_url = ""  # where clients reach this fake's /pa (for the demo's links)
        self.event_types: list[str] = list(OPTIONAL_EVENTS)
        self._unanswered: dict[str, deque[float]] = {}
        self._details_calls: dict[str, deque[float]] = {}
        self._tokens = itertools.count(FIRST_MESSAGE_TOKEN)
        self.deliverer = Deliverer(
            accepts=lambda status, text: status == 200,
            headers_for=lambda body, attempt: {"X-Viber-Content-Signature": sign(token, body)},
            max_attempts=delivery_attempts,
            time_scale=time_scale,
        )
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        from sandbox.viber.control import add_control_routes

        app = web.Application()
        app.router.add_post("/pa/{endpoint}", self._handle)
        add_control_routes(app, self)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.deliverer.close()

    # ---- the REST API -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        endpoint = request.match_info["endpoint"]
        handler = self._endpoints().get(endpoint)
        if handler is None:
            raise web.HTTPNotFound(text=f"unknown endpoint {endpoint}")
        raw = await request.read()
        injection = self.chaos.draw(endpoint)
        if injection is not None and not injection.after_effect:
            return await self._inject(request, injection)
        fault = self.faults.take(endpoint)
        if fault is not None:
            if fault.kind == "hang":
                await asyncio.sleep(fault.seconds * self.time_scale)
            elif fault.kind == "http500":
                self.calls.record(endpoint, {}, self.clock.now(), "http 500")
                return web.Response(status=500, text="Internal Server Error")
            else:
                return self._answer(endpoint, {}, ViberError(int(fault.error.get("status", 12))))
        body: dict[str, Any] = {}
        try:
            if len(raw) > MAX_BODY_BYTES:
                raise ViberError(3, f"request body is larger than {MAX_BODY_BYTES} bytes")
            try:
                parsed = json.loads(raw or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ViberError(3, "body is not valid JSON") from None
            if not isinstance(parsed, dict):
                raise ViberError(3, "body must be a JSON object")
            body = parsed
            self._check_token(request, body)
            result = await handler(body)
        except ViberError as error:
            return self._answer(endpoint, body, error)
        answer = self._answer(endpoint, body, None, result)
        if injection is not None:  # a timeout after the call took effect
            return await drop_connection(request, injection)
        return answer

    async def _inject(self, request: web.Request, injection: Injection) -> web.Response:
        """Answer a drawn fault as Viber would: a 5xx, status 12 (too many requests) in an
        HTTP 200, or a dropped connection."""
        endpoint = injection.endpoint
        if injection.kind == ERROR:
            self.calls.record(endpoint, {}, self.clock.now(), f"http {injection.status}")
            raise plain_http_fault(injection)
        if injection.kind == THROTTLE:
            return self._answer(endpoint, {}, ViberError(12, "too many requests"))
        self.calls.record(endpoint, {}, self.clock.now(), "dropped")
        return await drop_connection(request, injection)

    def _answer(
        self,
        endpoint: str,
        body: dict[str, Any],
        error: ViberError | None,
        result: dict[str, Any] | None = None,
    ) -> web.Response:
        shown = {k: v for k, v in body.items() if k != "auth_token"}
        outcome = "ok" if error is None else f"status {error.status}"
        self.calls.record(endpoint, shown, self.clock.now(), outcome)
        if error is not None:
            answer: dict[str, Any] = {
                "status": error.status,
                "status_message": error.status_message,
                "chat_hostname": CHAT_HOSTNAME,
            }
            if error.detail:
                answer["details"] = error.detail
            return web.json_response(answer)
        return web.json_response({"status": 0, "status_message": "ok", **(result or {})})

    def _check_token(self, request: web.Request, body: dict[str, Any]) -> None:
        token = request.headers.get("X-Viber-Auth-Token") or body.get("auth_token")
        if not token:
            error = ViberError(2, "missing auth token")
            error.status_message = "missing_auth_token"
            raise error
        if not hmac.compare_digest(str(token), self.token):
            raise ViberError(2, "invalid auth token")

    def _endpoints(self) -> dict[str, Any]:
        return {
            "set_webhook": self._set_webhook,
            "send_message": self._send_message,
            "broadcast_message": self._broadcast_message,
            "get_user_details": self._get_user_details,
            "get_online": self._get_online,
            "get_account_info": self._get_account_info,
        }

    async def _set_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        if "url" not in body:
            raise ViberError(4, "url is required")
        url = str(body["url"])
        events = body.get("event_types")
        if events is not None and (
            not isinstance(events, list) or any(e not in EVENT_TYPE_NAMES for e in events)
        ):
            raise ViberError(3, f"event_types may only hold {', '.join(EVENT_TYPE_NAMES)}")
        if url == "":
            # Viber's SDKs read `event_types` from the answer to a removal too.
            self.webhook_url = ""
            return {"event_types": []}
        if not url.startswith(("http://", "https://")):
            raise ViberError(1, "url must be an https URL")
        # Viber calls the URL with a `webhook` event first; only a 200 makes the webhook stick.
        check = Deliverer(
            accepts=lambda status, text: status == 200,
            headers_for=lambda raw, attempt: {"X-Viber-Content-Signature": sign(self.token, raw)},
            max_attempts=1,
        )
        delivery = await check.deliver(url, self._encode(self._common("webhook")))
        if not delivery.succeeded:
            raise ViberError(1, "the webhook did not answer the `webhook` event with HTTP 200")
        self.webhook_url = url
        chosen = OPTIONAL_EVENTS if events is None else events
        self.event_types = [e for e in OPTIONAL_EVENTS if e in chosen]
        return {"event_types": [*ALWAYS_SENT[1:], *self.event_types]}

    async def _send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        receiver = body.get("receiver")
        if not receiver:
            raise ViberError(4, "receiver is required")
        check_message(body)
        token = self._deliver_to(str(receiver), body)
        return {"message_token": token, "chat_hostname": CHAT_HOSTNAME}

    async def _broadcast_message(self, body: dict[str, Any]) -> dict[str, Any]:
        receivers = body.get("broadcast_list")
        if not isinstance(receivers, list) or not receivers:
            raise ViberError(4, "broadcast_list is required")
        if len(receivers) > 300:
            raise ViberError(3, "broadcast_list holds at most 300 ids")
        check_message(body)
        failed = []
        token = next(self._tokens)
        for receiver in receivers:
            try:
                self._deliver_to(str(receiver), body)
            except ViberError as error:
                failed.append(
                    {
                        "receiver": receiver,
                        "status": error.status,
                        "status_message": error.status_message,
                    }
                )
        return {"message_token": token, "failed_list": failed}

    def _deliver_to(self, receiver: str, body: dict[str, Any]) -> int:
        if not self.webhook_url:
            raise ViberError(10, "set a webhook before sending messages")
        if receiver not in self.users:
            raise ViberError(5, f"receiver {receiver} is not registered")
        if receiver not in self.subscribed:
            raise ViberError(6, f"receiver {receiver} is not subscribed")
        window = self._unanswered.setdefault(receiver, deque())
        self._expire(window, HOUR)
        if len(window) >= self.messages_without_reply:
            raise ViberError(12, "too many messages to this user without a reply")
        window.append(self.clock.now())
        token = next(self._tokens)
        message = {k: v for k, v in body.items() if k not in ("auth_token", "broadcast_list")}
        message.update({"receiver": receiver, "message_token": token})
        self.sent.append(message)
        return token

    def _expire(self, window: deque[float], period: float) -> None:
        cutoff = self.clock.now() - period * self.time_scale
        while window and window[0] <= cutoff:
            window.popleft()

    async def _get_user_details(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body.get("id")
        if not user_id:
            raise ViberError(4, "id is required")
        user = self.users.get(str(user_id))
        if user is None:
            raise ViberError(5, f"user {user_id} is not registered")
        window = self._details_calls.setdefault(str(user_id), deque())
        self._expire(window, USER_DETAILS_WINDOW)
        if len(window) >= self.user_details_per_window:
            raise ViberError(12, "get_user_details is limited per user per 12 hours")
        window.append(self.clock.now())
        details = {
            **user,
            "primary_device_os": "Android 14",
            "viber_version": "24.1.0.0",
            "mcc": 255,
            "mnc": 1,
            "device_type": "Pixel 8",
        }
        return {"message_token": next(self._tokens), "user": details}

    async def _get_online(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids:
            raise ViberError(4, "ids is required")
        if len(ids) > 100:
            raise ViberError(3, "ids holds at most 100 ids")
        users = [
            {"id": i, "online_status": 0 if i in self.users else 3, "online_status_message": "ok"}
            for i in ids
        ]
        return {"users": users}

    async def _get_account_info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "pa:5431214880000000000",
            "name": self.name,
            "uri": "talkersupport",
            "icon": "",
            "background": "",
            "category": "Companies",
            "subcategory": "Customer support",
            "location": {"lon": 0.0, "lat": 0.0},
            "country": "US",
            "webhook": self.webhook_url,
            "event_types": [*ALWAYS_SENT[1:], *self.event_types],
            "subscribers_count": len(self.subscribed),
            "members": [],
        }

    # ---- what users do (each awaits its signed delivery to the webhook) ---------------------

    def add_user(
        self,
        user_id: str | None = None,
        name: str = "Viber User",
        avatar: str = "",
        country: str = "UA",
        language: str = "uk",
        subscribed: bool = False,
    ) -> str:
        """Register a Viber user; returns the id (Viber ids look like base64 strings)."""
        user_id = user_id or secrets.token_urlsafe(16)[:22] + "=="
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "avatar": avatar,
            "country": country,
            "language": language,
            "api_version": 10,
        }
        if subscribed:
            self.subscribed.add(user_id)
        return user_id

    async def customer_message(
        self, user_id: str, text: str | None = None, message: dict[str, Any] | None = None
    ) -> Delivery:
        """The user writes: a text, or any Viber message dict ({"type": "picture", ...}).

        Writing subscribes the user (without a `subscribed` event) and resets the
        messages-without-reply counter.
        """
        if (text is None) == (message is None):
            raise ValueError("give either text or message")
        payload = {"type": "text", "text": text} if message is None else dict(message)
        if "type" not in payload:
            raise ValueError("a Viber message needs a type")
        user = self._user(user_id)
        self.subscribed.add(user_id)
        self._unanswered.pop(user_id, None)
        event = self._common("message") | {"sender": user, "message": payload}
        return await self._send_event(event)

    async def customer_presses(self, user_id: str, text: str) -> Delivery:
        """The user taps the `reply` button showing `text` of the newest keyboard the bot sent
        them: the button's ActionBody arrives as their text message (shown in their chat
        unless the button is Silent)."""
        for sent in reversed(self.received(user_id)):
            for button in (sent.get("keyboard") or {}).get("Buttons") or []:
                if button.get("Text") == text and button.get("ActionType", "reply") == "reply":
                    return await self.customer_message(user_id, button["ActionBody"])
        raise ValueError(f"user {user_id} has no keyboard button {text!r}")

    async def customer_subscribes(self, user_id: str) -> Delivery:
        user = self._user(user_id)
        self.subscribed.add(user_id)
        return await self._send_event(self._common("subscribed") | {"user": user})

    async def customer_unsubscribes(self, user_id: str) -> Delivery:
        self._user(user_id)
        self.subscribed.discard(user_id)
        return await self._send_event(self._common("unsubscribed") | {"user_id": user_id})

    async def conversation_started(self, user_id: str, context: str = "") -> Delivery:
        """The user opens the chat; the delivery's last answer holds any welcome message."""
        user = self._user(user_id)
        event = self._common("conversation_started") | {
            "type": "open",
            "context": context,
            "user": user,
            "subscribed": user_id in self.subscribed,
        }
        return await self._send_event(event)

    async def receipt(
        self, event: str, user_id: str, message_token: int, desc: str = ""
    ) -> Delivery:
        """A `delivered`, `seen` or `failed` callback about a message the bot sent."""
        if event not in ("delivered", "seen", "failed"):
            raise ValueError("receipt event is delivered, seen or failed")
        body = self._common(event) | {"message_token": message_token, "user_id": user_id}
        if event == "failed":
            body["desc"] = desc or "failed to deliver"
        return await self._send_event(body)

    def received(self, user_id: str) -> list[dict[str, Any]]:
        """Messages the bot sent to this user, oldest first."""
        return [m for m in self.sent if m["receiver"] == user_id]

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise ValueError(f"unknown Viber user {user_id!r}; add_user() first")
        return self.users[user_id]

    def _common(self, event: str) -> dict[str, Any]:
        return {
            "event": event,
            "timestamp": int(self.clock.now() * 1000),
            "chat_hostname": CHAT_HOSTNAME,
            "message_token": next(self._tokens),
        }

    @staticmethod
    def _encode(event: dict[str, Any]) -> bytes:
        return json.dumps(event, ensure_ascii=False).encode()

    async def _send_event(self, event: dict[str, Any]) -> Delivery:
        if not self.webhook_url:
            raise RuntimeError("no webhook set: call set_webhook first (API or set_webhook())")
        body = self._encode(event)
        if event["event"] not in ALWAYS_SENT and event["event"] not in self.event_types:
            return Delivery(body=body, succeeded=True)  # the bot opted out of this event
        return await self.deliverer.deliver(self.webhook_url, body)

    async def set_webhook(self, url: str, event_types: list[str] | None = None) -> None:
        """What the bot's set_webhook call does, from Python (raises ViberError on failure)."""
        body: dict[str, Any] = {"url": url}
        if event_types is not None:
            body["event_types"] = event_types
        await self._set_webhook(body)
