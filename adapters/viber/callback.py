"""`POST /webhooks/viber`: Viber's signed callbacks.

`X-Viber-Content-Signature` must be the hex HMAC-SHA256 of the raw body keyed with the bot's
token (constant-time compare); forged or missing → 403 and nothing stored. A malformed body →
400. The answer is 200 only after the core committed the event (Viber retries anything
else). `conversation_started` is answered with the optional greeting as a welcome message.
With dead letters (`use_dead_letters`), an event that fails deterministically (a few tries) is
kept with its body and answered 200, so Viber stops redelivering it; a transient failure (the
database unreachable) is answered 503 and Viber delivers it again.
"""

from __future__ import annotations

import hashlib
import json
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

PATH = "/webhooks/viber"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
RequestHandler = Callable[[Any], Awaitable[None]]
Parser = Callable[[dict[str, Any]], Any]


class ViberCallback:
    """The aiohttp handler of one Viber bot's webhook."""

    def __init__(
        self,
        token: str,
        parse: Parser,
        handle: RequestHandler,
        welcome: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> None:
        self._token = token
        self._parse = parse
        self._handle = handle
        self._welcome = welcome
        self._letters: DeadLetters | None = None
        self._source = "viber"

    def use_dead_letters(self, dead_letters: DeadLetters, source: str = "viber") -> None:
        """Keep poison events as dead letters of `source` (and replay them)."""
        self._letters = dead_letters
        self._source = source
        dead_letters.register(source, self.replay)

    async def replay(self, payload: str) -> None:
        """Handle a dead letter's body again (`talker-bridge dead-letters replay`)."""
        await self._handle(self._parse(parse_json_object(payload.encode())))

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post(PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        if not signature_matches(self._token, raw, request.headers.get(SIGNATURE_HEADER)):
            log.debug("Viber callback refused: forged or missing signature")
            return web.Response(status=403, text="bad signature")
        try:
            parsed = self._parse(parse_json_object(raw))
        except MalformedPayload as exc:
            log.debug("Viber callback refused: %s", exc)
            return web.Response(status=400, text=str(exc))
        try:
            if self._letters is None:
                await self._handle(parsed)
            else:
                token = getattr(parsed, "message_token", None)
                verdict = await self._letters.in_request(
                    self._source,
                    str(token) if token else hashlib.sha256(raw).hexdigest()[:32],
                    raw.decode("utf-8", "replace"),
                    lambda: self._handle(parsed),
                    refused=(MalformedPayload,),
                )
                if verdict is Verdict.RETRY:
                    return web.Response(status=503, text="not stored, retry later")
        except MalformedPayload as exc:
            log.debug("Viber callback refused: %s", exc)
            return web.Response(status=400, text=str(exc))
        except Exception:
            log.exception("Viber callback: the event could not be stored; Viber will retry")
            return web.Response(status=503, text="not stored, retry later")
        if getattr(parsed, "event_type", None) == "conversation_started":
            welcome = self._welcome()
            if welcome is not None:
                return web.Response(
                    text=json.dumps(welcome, ensure_ascii=False),
                    content_type="application/json",
                )
        return web.Response(text="ok")
