"""FakeFacebook: one Facebook Page over real HTTP — the Send API, user profiles, webhooks.

Routes (relative, so the app can be mounted under `/facebook`): `POST /<version>/me/messages`,
`POST /<version>/<page-id>/messages`, `POST /<version>/me/message_attachments` (JSON or
multipart with `filedata`, see uploads.py), `GET /<version>/<PSID>?fields=...`, plus
`/_control/`.
Deliveries to the bridge use Meta's envelope `{object: "page", entry: [{id, time, messaging}]}`,
are signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` and retried
until the webhook answers 200. The messaging window is measured on the injectable clock, so
`fake.clock.advance(25 * 3600)` crosses the 24 hours without waiting.

Choices: profile failures are configurable per user (`profile="none"` → code 100 subcode 2018218
"No profile available"; `profile="forbidden"` → code 200 permission error); more than
`send_calls_per_second` Send API calls in a second answer code 613. The page token is taken
from the `Authorization: Bearer` header, the `access_token` query parameter or the body, as
Meta does; `token_arrivals` records which one each call used (and its URL), so a test can check
that the bridge never put the token in a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.chaos import (
    ERROR,
    THROTTLE,
    Chaos,
    ChaosSettings,
    Injection,
    drop_connection,
)
from sandbox.common import CallLog, Clock, Deliverer, Delivery, FaultPlan, RateLimiter
from sandbox.facebook.page import DEFAULT_FIELDS, page_json, subscribed_apps
from sandbox.facebook.send_rules import GraphError, check_send_body, check_window, param_error
from sandbox.facebook.uploads import AttachmentStore, FileData, read_graph_body

PROFILE_FIELDS = ("id", "name", "first_name", "last_name", "profile_pic", "locale", "timezone")
PROFILE_STATES = ("ok", "none", "forbidden")
VERSION_PATTERN = r"v\d+\.\d+"


#: Where a Graph API call carried the page token (`TokenArrival.via`).
TOKEN_IN_HEADER = "header"
TOKEN_IN_URL = "url"
TOKEN_IN_BODY = "body"
TOKEN_MISSING = "missing"


@dataclass(frozen=True, slots=True)
class TokenArrival:
    """One Graph API call as it reached the fake: method, path with query, where the token was."""

    method: str
    url: str
    via: str


def signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value for `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class FakeFacebook:
    """A Page with a page token and an app secret; customers are driven from Python or HTTP."""

    def __init__(
        self,
        page_id: str = "100200300",
        page_name: str = "Talker Shop",
        page_token: str = "fb-page-token",
        app_secret: str = "fb-app-secret",
        time_scale: float = 1.0,
        clock: Clock | None = None,
        send_calls_per_second: int = 300,
        delivery_attempts: int = 5,
        chaos: ChaosSettings | None = None,
    ) -> None:
        self.page_id = page_id
        self.page_name = page_name
        #: The webhook fields the app is subscribed to on the Page; None: not subscribed.
        self.subscribed_fields: tuple[str, ...] | None = DEFAULT_FIELDS
        self.page_token = page_token
        self.app_secret = app_secret
        self.time_scale = time_scale
        self.clock = clock or Clock()
        self.calls = CallLog()
        self.faults = FaultPlan()
        #: Random 5xx, timeouts and code 613 (off unless configured; see sandbox/chaos.py).
        self.chaos = Chaos(chaos)
        self.rate = RateLimiter(send_calls_per_second, 1.0 * time_scale, self.clock)
        self.users: dict[str, dict[str, Any]] = {}
        self.last_customer_message: dict[str, float] = {}
        self.blocked: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        #: Attachments the Page may send by id (uploads and reusable sends; see uploads.py).
        self.attachments = AttachmentStore()
        #: Every Graph API call's token check, in order (see `_token`).
        self.token_arrivals: list[TokenArrival] = []
        self.webhook_url = ""
        self.public_url = ""
        self._mids = itertools.count(1)
        self.deliverer = Deliverer(
            accepts=lambda status, text: status == 200,
            headers_for=self._signed_headers,
            max_attempts=delivery_attempts,
            time_scale=time_scale,
        )
        self.app = self._build_app()

    def _signed_headers(self, body: bytes, attempt: int) -> dict[str, str]:
        sha1 = hmac.new(self.app_secret.encode(), body, hashlib.sha1).hexdigest()
        return {
            "X-Hub-Signature-256": signature(self.app_secret, body),
            "X-Hub-Signature": f"sha1={sha1}",
        }

    def _build_app(self) -> web.Application:
        from sandbox.facebook.control import add_control_routes

        app = web.Application()
        add_control_routes(app, self)
        app.router.add_post(f"/{{version:{VERSION_PATTERN}}}/{{node}}/messages", self._send)
        app.router.add_post(
            f"/{{version:{VERSION_PATTERN}}}/{{node}}/message_attachments", self._upload
        )
        app.router.add_route(
            "*",
            f"/{{version:{VERSION_PATTERN}}}/{{node}}/subscribed_apps",
            self._subscribed_apps,
        )
        app.router.add_get(f"/{{version:{VERSION_PATTERN}}}/{{node}}", self._profile)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.deliverer.close()

    # ---- Graph API --------------------------------------------------------------------------

    async def _token(self, request: web.Request, body: dict[str, Any] | None = None) -> None:
        """Check the page token, taken (as Meta does) from the `Authorization: Bearer` header,
        the `access_token` query parameter or the body; `token_arrivals` records where."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token, via = auth[len("Bearer ") :], TOKEN_IN_HEADER
        elif request.query.get("access_token"):
            token, via = request.query["access_token"], TOKEN_IN_URL
        elif (body or {}).get("access_token"):
            token, via = (body or {})["access_token"], TOKEN_IN_BODY
        else:
            token, via = "", TOKEN_MISSING
        self.token_arrivals.append(TokenArrival(request.method, str(request.rel_url), via))
        if not token:
            raise GraphError(
                2500,
                "An active access token must be used to query information about the current user.",
            )
        if not hmac.compare_digest(str(token), self.page_token):
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")

    async def _apply_fault(self, name: str) -> web.Response | None:
        fault = self.faults.take(name)
        if fault is None:
            return None
        if fault.kind == "hang":
            await asyncio.sleep(fault.seconds * self.time_scale)
            return None
        if fault.kind == "http500":
            self.calls.record(name, {}, self.clock.now(), "http 500")
            return web.Response(status=500, text="Internal Server Error")
        code = int(fault.error.get("code", 2))
        error = GraphError(
            code,
            str(fault.error.get("message", "An unexpected error has occurred.")),
            fault.error.get("error_subcode"),
        )
        return self._error("messages", {}, error)

    async def _subscribed_apps(self, request: web.Request) -> web.Response:
        return await subscribed_apps(self, request)

    async def check_token(self, request: web.Request) -> None:
        """Raise the Graph API's error unless the request carries the page token."""
        await self._token(request)

    def check_page(self, node: str) -> None:
        """Raise the Graph API's error unless `node` is the Page (`me` or its id)."""
        self._check_node(node)

    def graph_error(self, name: str, shown: dict[str, Any], error: GraphError) -> web.Response:
        """Record the failed call and answer the error as the Graph API does."""
        return self._error(name, shown, error)

    def _error(self, name: str, shown: dict[str, Any], error: GraphError) -> web.Response:
        self.calls.record(name, shown, self.clock.now(), f"error {error.code}")
        return web.json_response(error.as_json(), status=error.http_status)

    async def _inject(self, request: web.Request, injection: Injection) -> web.Response:
        """Answer a drawn fault as the Graph API would: a 5xx with a transient error (code 2),
        code 613 (rate limit) with HTTP 400, or a dropped connection."""
        name = injection.endpoint
        if injection.kind == ERROR:
            error = GraphError(
                2,
                "An unexpected error has occurred. Please retry your request later.",
                http_status=injection.status,
            )
            return self._error(name, {}, error)
        if injection.kind == THROTTLE:
            limit = GraphError(613, "(#613) Calls to this api have exceeded the rate limit.")
            return self._error(name, {}, limit)
        self.calls.record(name, {}, self.clock.now(), "dropped")
        return await drop_connection(request, injection)

    async def _send(self, request: web.Request) -> web.Response:
        injection = self.chaos.draw("messages")
        if injection is not None and not injection.after_effect:
            return await self._inject(request, injection)
        fault = await self._apply_fault("messages")
        if fault is not None:
            return fault
        node = request.match_info["node"]
        body: dict[str, Any] = {}
        try:
            body, file = await read_graph_body(request)
            await self._token(request, body)
            self._check_node(node)
            if not self.rate.allow(self.page_id):
                raise GraphError(613, "(#613) Calls to this api have exceeded the rate limit.")
            check_send_body(body, with_file=file is not None)
            psid = str(body["recipient"]["id"])
            if psid not in self.users:
                raise param_error("No matching user found", subcode=2018001)
            if psid in self.blocked:
                raise GraphError(551, "(#551) This person isn't available right now.", 1545041)
            check_window(body, self.last_customer_message.get(psid), self.clock.now())
            attachment_id = self._sent_attachment(body, file)
        except GraphError as error:
            shown = {k: v for k, v in body.items() if k != "access_token"}
            return self._error("messages", shown, error)
        self.calls.record("messages", body, self.clock.now(), "ok")
        if "sender_action" in body:
            return web.json_response({"recipient_id": psid})
        mid = f"m_{secrets.token_urlsafe(24)}"
        self.sent.append({**body, "message_id": mid, "timestamp": int(self.clock.now() * 1000)})
        if injection is not None:  # a timeout after the call took effect
            return await drop_connection(request, injection)
        answer = {"recipient_id": psid, "message_id": mid}
        if attachment_id is not None:
            answer["attachment_id"] = attachment_id
        return web.json_response(answer)

    def _check_node(self, node: str) -> None:
        if node not in ("me", self.page_id):
            raise GraphError(
                100,
                f"Unsupported post request. Object with ID '{node}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                subcode=33,
                kind="GraphMethodException",
            )

    def _sent_attachment(self, body: dict[str, Any], file: FileData | None) -> str | None:
        """The attachment_id a send answers with (a file, or a URL with is_reusable), after
        checking an `attachment_id` the message refers to; the file's id goes into the
        stored payload so a test can read the bytes from `attachments`."""
        attachment = (body.get("message") or {}).get("attachment")
        if not isinstance(attachment, dict) or attachment.get("type") == "template":
            return None
        payload = attachment["payload"]
        if payload.get("attachment_id") is not None:
            self.attachments.check_reference(payload["attachment_id"])
            return None
        if file is None and not payload.get("is_reusable"):
            return None
        attachment_id = self.attachments.add(attachment["type"], payload.get("url"), file)
        if file is not None:
            payload["attachment_id"] = attachment_id
        return attachment_id

    async def _upload(self, request: web.Request) -> web.Response:
        """`POST /<version>/me/message_attachments` (the Attachment Upload API)."""
        body: dict[str, Any] = {}
        try:
            body, file = await read_graph_body(request)
            await self._token(request, body)
            self._check_node(request.match_info["node"])
            attachment_id = self.attachments.upload(body, file)
        except GraphError as error:
            shown = {k: v for k, v in body.items() if k != "access_token"}
            return self._error("message_attachments", shown, error)
        self.calls.record("message_attachments", body, self.clock.now(), "ok")
        return web.json_response({"attachment_id": attachment_id})

    async def _profile(self, request: web.Request) -> web.Response:
        psid = request.match_info["node"]
        injection = self.chaos.draw("profile")
        if injection is not None:  # a profile look-up has no effect to drop after
            return await self._inject(request, injection)
        fault = await self._apply_fault("profile")
        if fault is not None:
            return fault
        fields = [f for f in request.query.get("fields", "first_name,last_name").split(",") if f]
        shown = {"id": psid, "fields": ",".join(fields)}
        try:
            await self._token(request)
            if psid in ("me", self.page_id):
                self.calls.record("page", shown, self.clock.now(), "ok")
                return web.json_response(page_json(self))
            user = self.users.get(psid)
            if user is None:
                raise GraphError(
                    100,
                    f"Unsupported get request. Object with ID '{psid}' does not exist, cannot be "
                    "loaded due to missing permissions, or does not support this operation.",
                    subcode=33,
                    kind="GraphMethodException",
                )
            if user["profile"] == "none":
                raise param_error("No profile available for this user.", subcode=2018218)
            if user["profile"] == "forbidden":
                raise GraphError(
                    200,
                    "(#200) This app needs Advanced Access to Business Asset User Profile Access",
                    kind="OAuthException",
                )
            for name in fields:
                if name not in PROFILE_FIELDS:
                    raise param_error(
                        f"Tried accessing nonexisting field ({name}) on node type (User)"
                    )
        except GraphError as error:
            return self._error("profile", shown, error)
        self.calls.record("profile", shown, self.clock.now(), "ok")
        full = {
            "id": psid,
            "name": f"{user['first_name']} {user['last_name']}".strip(),
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "profile_pic": user["profile_pic"],
            "locale": "en_US",
            "timezone": 0,
        }
        return web.json_response({"id": psid} | {name: full[name] for name in fields})

    # ---- customers --------------------------------------------------------------------------

    def add_user(
        self,
        psid: str | None = None,
        first_name: str = "Messenger",
        last_name: str = "User",
        profile: str = "ok",
        profile_pic: str = "",
    ) -> str:
        """Register a person who can talk to the Page; `profile` is ok, none or forbidden."""
        if profile not in PROFILE_STATES:
            raise ValueError(f"profile must be one of {PROFILE_STATES}")
        psid = psid or str(7_000_000_000_000_000 + secrets.randbelow(10**15))
        self.users[psid] = {
            "first_name": first_name,
            "last_name": last_name,
            "profile": profile,
            "profile_pic": profile_pic or f"{self.public_url}/_control/avatar/{psid}.png",
        }
        return psid

    async def customer_message(
        self, psid: str, text: str | None = None, attachments: list[dict[str, Any]] | None = None
    ) -> Delivery:
        """The person writes (text and/or attachments [{type, url}]); opens the 24 h window."""
        if not text and not attachments:
            raise ValueError("a message needs text or attachments")
        self._user(psid)
        self.last_customer_message[psid] = self.clock.now()
        message: dict[str, Any] = {"mid": f"m_{secrets.token_urlsafe(24)}"}
        if text:
            message["text"] = text
        if attachments:
            message["attachments"] = [
                {"type": a["type"], "payload": {"url": a["url"]}} for a in attachments
            ]
        return await self._deliver([self._event(psid, message=message)])

    async def customer_quick_reply(
        self, psid: str, title: str, *, payload: str | None = None
    ) -> Delivery:
        """The person taps the quick reply `title` of the newest message that offered quick
        replies: a message with that text and `quick_reply.payload`. `payload`: sent as is,
        whatever was offered (a forged tap)."""
        if payload is None:
            offered = [
                reply
                for sent in reversed(self.received(psid))
                for reply in sent["message"].get("quick_replies") or []
                if reply.get("title") == title
            ]
            if not offered:
                raise ValueError(f"{psid} was offered no quick reply {title!r}")
            payload = str(offered[0]["payload"])
        self._user(psid)
        self.last_customer_message[psid] = self.clock.now()
        message = {
            "mid": f"m_{secrets.token_urlsafe(24)}",
            "text": title,
            "quick_reply": {"payload": payload},
        }
        return await self._deliver([self._event(psid, message=message)])

    async def customer_postback(self, psid: str, title: str, payload: str) -> Delivery:
        """The person taps a button (e.g. Get Started); that too opens the window."""
        self._user(psid)
        self.last_customer_message[psid] = self.clock.now()
        postback = {"title": title, "payload": payload, "mid": f"m_{secrets.token_urlsafe(24)}"}
        return await self._deliver([self._event(psid, postback=postback)])

    async def customer_receipt(self, psid: str, kind: str) -> Delivery:
        """A `delivery` or `read` event covering everything the Page has sent so far."""
        if kind not in ("delivery", "read"):
            raise ValueError("kind is delivery or read")
        watermark = int(self.clock.now() * 1000)
        payload: dict[str, Any] = {"watermark": watermark}
        if kind == "delivery":
            payload["mids"] = [m["message_id"] for m in self.received(psid)]
        return await self._deliver([self._event(psid, **{kind: payload})])

    def customer_blocks(self, psid: str) -> None:
        self._user(psid)
        self.blocked.add(psid)

    def received(self, psid: str) -> list[dict[str, Any]]:
        """Send API messages the Page sent to this person, oldest first."""
        return [m for m in self.sent if str(m["recipient"]["id"]) == psid]

    def _user(self, psid: str) -> dict[str, Any]:
        if psid not in self.users:
            raise ValueError(f"unknown PSID {psid!r}; add_user() first")
        return self.users[psid]

    def _event(self, psid: str, **content: Any) -> dict[str, Any]:
        return {
            "sender": {"id": psid},
            "recipient": {"id": self.page_id},
            "timestamp": int(self.clock.now() * 1000),
            **content,
        }

    async def _deliver(self, events: list[dict[str, Any]]) -> Delivery:
        if not self.webhook_url:
            raise RuntimeError("no webhook: verify_webhook(url, verify_token) first")
        entries = [
            {"id": self.page_id, "time": int(self.clock.now() * 1000), "messaging": [event]}
            for event in events
        ]
        # Meta sends escaped unicode (\u00e4); the signature covers these exact bytes.
        body = json.dumps({"object": "page", "entry": entries}, ensure_ascii=True).encode()
        return await self.deliverer.deliver(self.webhook_url, body)

    async def verify_webhook(self, url: str, verify_token: str) -> bool:
        """Meta's subscription handshake; on success the URL receives events from now on."""
        challenge = str(secrets.randbelow(10**9))
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        timeout = aiohttp.ClientTimeout(total=20)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url, params=params) as response,
            ):
                ok = response.status == 200 and (await response.text()) == challenge
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok:
            self.webhook_url = url
        return ok
