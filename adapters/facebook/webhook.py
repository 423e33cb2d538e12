"""`GET /webhooks/facebook` (Meta's verification handshake) and `POST` (signed events).

GET: `hub.mode=subscribe` and `hub.verify_token` equal to the configured token → 200 with the
bare `hub.challenge`; anything else → 403. POST: `X-Hub-Signature-256: sha256=<hex>` must be
the HMAC-SHA256 of the raw body keyed with the app secret (constant time) → else 403, nothing
stored; malformed → 400; 200 only after the core committed every event of the body. With dead
letters (`use_dead_letters`), a body that fails deterministically (a few tries) is kept whole and
answered 200, so Meta stops redelivering it; a transient failure (the database unreachable) is
answered 503 and Meta delivers it again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.common.signatures import signature_matches
from adapters.common.webhook_input import MalformedPayload, parse_json_object, read_body
from bridge.dead_letters import Verdict

if TYPE_CHECKING:
    from bridge.dead_letters import DeadLetters

log = logging.getLogger(__name__)

PATH = "/webhooks/facebook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
BodyHandler = Callable[[dict[str, Any]], Awaitable[None]]


class FacebookWebhook:
    """The aiohttp handlers of one Page's webhook."""

    def __init__(self, app_secret: str, verify_token: str, handle: BodyHandler) -> None:
        self._app_secret = app_secret
        self._verify_token = verify_token.encode()
        self._handle = handle
        self._letters: DeadLetters | None = None
        self._source = "facebook"

    def use_dead_letters(self, dead_letters: DeadLetters, source: str = "facebook") -> None:
        """Keep poison bodies as dead letters of `source` (and replay them)."""
        self._letters = dead_letters
        self._source = source
        dead_letters.register(source, self.replay)

    async def replay(self, payload: str) -> None:
        """Handle a dead letter's body again (`talker-bridge dead-letters replay`)."""
        await self._handle(parse_json_object(payload.encode()))

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get(PATH, self.verify), web.post(PATH, self.receive)]

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "").encode("utf-8", "replace")
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") != "subscribe"
            or not challenge
            or not hmac.compare_digest(token, self._verify_token)
        ):
            return web.Response(status=403, text="verification refused")
        return web.Response(text=challenge, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        given = request.headers.get(SIGNATURE_HEADER)
        if not signature_matches(self._app_secret, raw, given, prefix="sha256="):
            log.debug("Messenger webhook refused: forged or missing signature")
            return web.Response(status=403, text="bad signature")
        try:
            body = parse_json_object(raw)
            if self._letters is None:
                await self._handle(body)
            else:
                verdict = await self._letters.in_request(
                    self._source,
                    _key_of(body, raw),
                    raw.decode("utf-8", "replace"),
                    lambda: self._handle(body),
                    refused=(MalformedPayload,),
                )
                if verdict is Verdict.RETRY:
                    return web.Response(status=503, text="not stored, retry later")
        except MalformedPayload as exc:
            log.debug("Messenger webhook refused: %s", exc)
            return web.Response(status=400, text=str(exc))
        except Exception:
            log.exception("Messenger webhook: events could not be stored; Meta will retry")
            return web.Response(status=503, text="not stored, retry later")
        return web.Response(text="EVENT_RECEIVED")


def _key_of(body: dict[str, Any], raw: bytes) -> str:
    """A dead letter's key: the first message id of the body, else a digest of it."""
    entries = body.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        events = entry.get("messaging") if isinstance(entry, dict) else None
        for event in events if isinstance(events, list) else ():
            message = event.get("message") if isinstance(event, dict) else None
            if isinstance(message, dict) and isinstance(message.get("mid"), str):
                return str(message["mid"])[:255]
    return hashlib.sha256(raw).hexdigest()[:32]
