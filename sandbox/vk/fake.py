"""FakeVK: a VK community over real HTTP — API methods, Bots Long Poll, uploads, Callback API.

Routes are relative so the app runs alone or mounted under `/vk`: `/method/<name>`,
`/_lp/<server>`, `/_upload/photo/<token>`, `/_upload/doc/<type>`, `/_files/<key>` and the
control API under `/_control/` (see `sandbox.vk.control`). vk_api talks to it through
`adapters.vk.session.VkApiSession(api_url)`.

Choices where VK's behaviour is not spelled out:
- a repeated non-zero `random_id` sends nothing and answers the id of the first message;
- `messages.send` with `peer_ids` answers one item per peer; a peer that cannot be messaged
  gets an `error` in its item and the others are still sent;
- a user may be messaged after they wrote to the community or allowed messages, until they deny;
  otherwise error 901; deactivated users give 902;
- Callback servers get events once they answered the confirmation request with the code.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.chaos import (
    ERROR,
    THROTTLE,
    TIMEOUT,
    Chaos,
    ChaosSettings,
    Injection,
    drop_connection,
    plain_http_fault,
)
from sandbox.common import CallLog, Clock, Deliverer, FaultPlan, RateLimiter, mount_base
from sandbox.vk import methods, payloads
from sandbox.vk.longpoll import LongPollStream
from sandbox.vk.spec import VkError, check_params, method_spec, vk_error
from sandbox.vk.state import CallbackServer, StoredFile, VkState, VkUser, tiny_png

REQUESTS_PER_SECOND = 20  # community token (dev.vk.com/ru/api/api-requests)


class FakeVK:
    """One VK community with its token; customers are driven from Python or `/_control/`."""

    def __init__(
        self,
        group_id: int = 1,
        token: str = "vk-group-token",
        group_name: str = "Talker Support",
        time_scale: float = 1.0,
        clock: Clock | None = None,
        requests_per_second: int = REQUESTS_PER_SECOND,
        callback_attempts: int = 5,
        chaos: ChaosSettings | None = None,
    ) -> None:
        self.group_id = group_id
        self.token = token
        self.group_name = group_name
        self.time_scale = time_scale
        self.clock = clock or Clock()
        self.state = VkState()
        self.calls = CallLog()
        self.faults = FaultPlan()
        #: Random 5xx, timeouts and rate errors (off unless configured; see sandbox/chaos.py).
        self.chaos = Chaos(chaos)
        self.rate = RateLimiter(requests_per_second, 1.0 * time_scale, self.clock)
        self.longpoll = LongPollStream(time_scale)
        self._upload_secret = secrets.token_bytes(16)
        self.callbacks = Deliverer(
            accepts=lambda status, text: status == 200 and text == "ok",
            headers_for=lambda body, attempt: {"X-Retry-Counter": str(attempt)} if attempt else {},
            max_attempts=callback_attempts,
            time_scale=time_scale,
        )
        self._confirmations: set[asyncio.Task[None]] = set()
        # Absolute root of this fake as clients reach it; learnt from the first request when
        # not set, used for the URLs of files in customers' messages.
        self.public_url = ""
        self.app = self._build_app()

    # ---- the HTTP surface -------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        from sandbox.vk.control import add_control_routes

        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/method/{name}", self._handle_method)
        app.router.add_get("/_lp/{server}", self._handle_longpoll)
        app.router.add_post("/_upload/photo/{token}", self._handle_photo_upload)
        app.router.add_post("/_upload/doc/{kind}", self._handle_doc_upload)
        app.router.add_get("/_files/{key}", self._handle_file)
        add_control_routes(app, self)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        for task in list(self._confirmations):
            task.cancel()
        await self.callbacks.close()

    async def _handle_method(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        base = mount_base(request, f"/method/{name}")
        self.public_url = self.public_url or base
        injection = self.chaos.draw(name)
        if injection is not None and not injection.after_effect:
            return await self._inject(request, injection, params)
        fault = self.faults.take(name)
        if fault is not None:
            if fault.kind == "hang":
                await asyncio.sleep(fault.seconds * self.time_scale)
            elif fault.kind == "http500":
                self._record(name, params, "http 500")
                return web.Response(status=500, text="Internal Server Error")
            else:
                code = int(fault.error.get("code", 10))
                error = VkError(code, str(fault.error.get("message") or vk_error(code).message))
                return self._error(name, params, error)
        try:
            response = self._dispatch(name, params, base)
        except VkError as error:
            return self._error(name, params, error)
        self._record(name, params, "ok")
        if injection is not None:  # a timeout after the call took effect
            return await drop_connection(request, injection)
        return web.json_response({"response": response})

    async def _inject(
        self, request: web.Request, injection: Injection, params: dict[str, str]
    ) -> web.Response:
        """Answer a drawn fault as VK would: a 5xx, error 6 (too many requests per second) in
        an HTTP 200, or a dropped connection."""
        name = injection.endpoint
        if injection.kind == ERROR:
            self._record(name, params, f"http {injection.status}")
            raise plain_http_fault(injection)
        if injection.kind == THROTTLE:
            return self._error(name, params, vk_error(6))
        self._record(name, params, "dropped")
        return await drop_connection(request, injection)

    async def _chaos_outside_api(self, request: web.Request, endpoint: str) -> None:
        """Upload servers and file downloads fail as plain HTTP servers do (raises)."""
        injection = self.chaos.draw(endpoint)
        if injection is None:
            return
        self._record(endpoint, {}, injection.kind)
        if injection.kind == TIMEOUT:
            await drop_connection(request, injection)
        raise plain_http_fault(injection)

    def _dispatch(self, name: str, params: dict[str, str], base: str) -> Any:
        method_spec(name)
        if not params.get("v"):
            raise vk_error(8, "v (version) is required")
        token = params.get("access_token", "")
        if not token:
            raise vk_error(5, "no access_token passed.")
        if not hmac.compare_digest(token, self.token):
            raise vk_error(5, "invalid access_token (4).")
        if not self.rate.allow(token):
            raise vk_error(6)
        typed = check_params(name, params, token_type="group")
        return methods.call(self, name, typed, base)

    def _error(self, name: str, params: dict[str, str], error: VkError) -> web.Response:
        self._record(name, params, f"error {error.code}")
        shown = [{"key": "method", "value": name}, {"key": "oauth", "value": "1"}]
        shown += [
            {"key": k, "value": v} for k, v in params.items() if k not in ("access_token", "v")
        ]
        shown.append({"key": "v", "value": params.get("v", "")})
        body = {
            "error": {
                "error_code": error.code,
                "error_msg": error.message,
                "request_params": shown,
            }
        }
        return web.json_response(body)

    def _record(self, name: str, params: dict[str, str], outcome: str) -> None:
        shown = {k: v for k, v in params.items() if k != "access_token"}
        self.calls.record(name, shown, self.clock.now(), outcome)

    async def _handle_longpoll(self, request: web.Request) -> web.Response:
        if request.match_info["server"] != self.longpoll.server_id:
            return web.json_response({"failed": 2})
        query = request.query
        if query.get("act") != "a_check":
            return web.json_response({"failed": 2})
        answer = await self.longpoll.check(
            query.get("key", ""), query.get("ts", ""), query.get("wait", "0")
        )
        return web.json_response(answer)

    def upload_hash(self, token: str) -> str:
        return hmac.new(self._upload_secret, token.encode(), hashlib.sha256).hexdigest()[:32]

    async def _read_upload(self, request: web.Request) -> tuple[str, bytes, str] | None:
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.filename:  # not a nested multipart
                data = await part.read()
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                return part.filename, bytes(data), content_type
        return None

    async def _handle_photo_upload(self, request: web.Request) -> web.Response:
        await self._chaos_outside_api(request, "upload.photo")
        upload = await self._read_upload(request)
        if upload is None:
            return web.json_response({"server": 1, "photo": "[]", "hash": ""})
        token = request.match_info["token"]
        self.state.pending_uploads[token] = StoredFile(*upload)
        photo = json.dumps([{"photo": token, "sizes": [], "kid": secrets.token_hex(16)}])
        return web.json_response({"server": 1, "photo": photo, "hash": self.upload_hash(token)})

    async def _handle_doc_upload(self, request: web.Request) -> web.Response:
        await self._chaos_outside_api(request, "upload.doc")
        upload = await self._read_upload(request)
        if upload is None:
            return web.json_response({"error": "no file uploaded", "error_descr": "file missing"})
        token = secrets.token_hex(8)
        self.state.pending_uploads[token] = StoredFile(*upload)
        return web.json_response({"file": f"{token}|{request.match_info['kind']}"})

    async def _handle_file(self, request: web.Request) -> web.Response:
        await self._chaos_outside_api(request, "files")
        key = request.match_info["key"]
        stored = self.state.files.get(key)
        if stored is not None:
            return web.Response(body=stored.data, content_type=stored.content_type)
        if key.endswith(".png"):  # avatars and group pictures
            return web.Response(body=tiny_png(), content_type="image/png")
        raise web.HTTPNotFound(text=f"no file {key}")

    # ---- what customers do ------------------------------------------------------------------

    def add_user(
        self, user_id: int, first_name: str, last_name: str, deactivated: str | None = None
    ) -> VkUser:
        """Register a VK user (`deactivated`: None, "deleted" or "banned")."""
        if deactivated not in (None, "deleted", "banned"):
            raise ValueError("deactivated is None, 'deleted' or 'banned'")
        user = VkUser(user_id, first_name, last_name, deactivated)
        self.state.users[user_id] = user
        return user

    async def customer_message(
        self,
        user_id: int,
        text: str = "",
        attachments: Sequence[str] = (),
        *,
        without_id: bool = False,
        payload: str | None = None,
    ) -> dict[str, Any]:
        """A user writes to the community: `message_new` with text and attachments.

        `attachments` are kinds from `payloads.ATTACHMENT_KINDS` (photo, doc, audio_message,
        sticker, wall); their files are served by this fake under `public_url`. `without_id`:
        the message carries `id` 0, as some clients report it (only the per-dialog
        `conversation_message_id` identifies it); edits of it carry 0 as well.
        """
        if not text and not attachments:
            raise ValueError("a message needs text or attachments")
        self.state.user(user_id)
        self.state.allowed.add(user_id)
        message_id = self.state.next_id()
        message = payloads.message_object(
            message_id,
            self.state.next_conversation_message_id(user_id),
            user_id,
            user_id,
            text,
            int(self.clock.now()),
            [self._customer_attachment(kind, user_id) for kind in attachments],
        )
        if without_id:
            message["id"] = message["version"] = 0
        if payload is not None:  # a keyboard button's payload (`customer_presses`)
            message["payload"] = payload
        self.state.messages[message_id] = message
        await self.emit("message_new", {"message": message, "client_info": payloads.CLIENT_INFO})
        return message

    async def customer_presses(self, user_id: int, label: str) -> dict[str, Any]:
        """The user presses the text button labelled `label` of the newest keyboard the
        community sent them: VK writes the label as their message, with the button's
        `payload` (message_new)."""
        for sent in reversed(self.received(user_id)):
            rows = (sent.get("keyboard") or {}).get("buttons") or []
            for button in (b for row in rows for b in row):
                action = button["action"]
                if action["type"] == "text" and action.get("label") == label:
                    return await self.customer_message(
                        user_id, label, payload=action.get("payload")
                    )
        raise ValueError(f"user {user_id} has no keyboard button {label!r}")

    async def customer_edits(self, user_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits a message they sent: `message_edit` with the whole message."""
        message = self.state.messages.get(message_id)
        if message is None or message["from_id"] != user_id:
            raise ValueError(f"user {user_id} has no message {message_id}")
        message["text"] = text
        message["update_time"] = int(self.clock.now())
        await self.emit("message_edit", dict(message))
        return message

    async def customer_allows(self, user_id: int) -> None:
        self.state.user(user_id)
        self.state.allowed.add(user_id)
        await self.emit("message_allow", {"user_id": user_id, "key": secrets.token_hex(8)})

    async def customer_denies(self, user_id: int) -> None:
        self.state.allowed.discard(user_id)
        await self.emit("message_deny", {"user_id": user_id})

    def received(self, user_id: int) -> list[dict[str, Any]]:
        """Messages the community sent to this user, oldest first."""
        return [m for m in self.state.messages.values() if m["out"] and m["peer_id"] == user_id]

    def _customer_attachment(self, kind: str, user_id: int) -> dict[str, Any]:
        base_url = self.public_url
        now = int(self.clock.now())
        item_id = self.state.next_id()
        if kind == "photo":
            key = self.state.store_file("photo.png", tiny_png(), "image/png")
            photo = payloads.photo_object(
                item_id, user_id, f"{base_url}/_files/{key}", now, secrets.token_hex(9)
            )
            self.state.photos[(user_id, item_id)] = photo
            return {"type": "photo", "photo": photo}
        if kind == "doc":
            key = self.state.store_file("report.pdf", b"%PDF-1.4 fake\n", "application/pdf")
            url = f"{base_url}/_files/{key}"
            doc = payloads.doc_object(item_id, user_id, "report.pdf", 14, url, now, "k")
            self.state.docs[(user_id, item_id)] = doc
            return {"type": "doc", "doc": doc}
        if kind == "audio_message":
            key = self.state.store_file("voice.ogg", b"OggS fake voice", "audio/ogg")
            url = f"{base_url}/_files/{key}"
            return {
                "type": "audio_message",
                "audio_message": payloads.audio_message_object(item_id, user_id, url),
            }
        if kind == "sticker":
            url = f"{base_url}/_files/sticker-{item_id}.png"
            return {"type": "sticker", "sticker": payloads.sticker_object(item_id, url)}
        if kind == "wall":
            post = payloads.wall_object(item_id, -self.group_id, "A post from the wall", now)
            return {"type": "wall", "wall": post}
        raise ValueError(f"unknown attachment kind {kind!r}; use {payloads.ATTACHMENT_KINDS}")

    # ---- events out: long poll and Callback API ---------------------------------------------

    async def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Publish one event to the long poll and to every confirmed callback server.

        The event holds a copy of `obj` as it is now: a later edit of the message changes the
        stored message, never an event already published (a long poll may read it later)."""
        event = payloads.event(self.group_id, event_type, copy.deepcopy(obj))
        self.longpoll.push(event)
        for server in self.state.callback_servers.values():
            if server.status == "ok" and server.events.get(event_type, False):
                body = dict(event)
                if server.secret_key:
                    body["secret"] = server.secret_key
                self.callbacks.deliver_later(server.url, json.dumps(body).encode())
        return event

    def outgoing_message(self, message: dict[str, Any]) -> None:
        """Hook for messages the community sends (message_reply where a server wants it)."""
        if any(s.events.get("message_reply") for s in self.state.callback_servers.values()):
            reply = {k: v for k, v in message.items() if k != "attachment_ids"}
            asyncio.get_running_loop().create_task(self.emit("message_reply", reply))

    async def confirm(self, server: CallbackServer) -> bool:
        """Send `confirmation` to a callback server; it is live only if it answers the code."""
        body = json.dumps(
            {"type": "confirmation", "group_id": self.group_id, "event_id": secrets.token_hex(20)}
        ).encode()
        code = self.state.confirmation_code
        confirmer = Deliverer(
            accepts=lambda status, text: status == 200 and text == code,
            headers_for=lambda body, attempt: {},
            max_attempts=1,
            time_scale=self.time_scale,
        )
        delivery = await confirmer.deliver(server.url, body)
        server.status = "ok" if delivery.succeeded else "failed"
        return delivery.succeeded

    def confirm_later(self, server: CallbackServer) -> None:
        task = asyncio.get_running_loop().create_task(self._confirm_quietly(server))
        self._confirmations.add(task)
        task.add_done_callback(self._confirmations.discard)

    async def _confirm_quietly(self, server: CallbackServer) -> None:
        await self.confirm(server)

    async def set_callback(self, url: str, secret: str = "", title: str = "bridge") -> bool:
        """Add a callback server and confirm it (what an admin does in the community UI)."""
        server = CallbackServer(self.state.next_id(), url, title[:14], secret)
        self.state.callback_servers[server.id] = server
        return await self.confirm(server)
