"""`POST /webhooks/vk`: VK's Callback API.

Contract (dev.vk.com, "Callback API"): `confirmation` is answered with the
configured string; every other body must carry the configured `secret` (else 403, nothing
stored); a repeated `event_id` is answered `ok` without work; `ok` is answered only after the
core committed the event — any other answer makes VK deliver it again. A malformed body gets
400 and never reaches the core.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.common.recent import RecentIds
from adapters.common.webhook_input import MalformedPayload, field, parse_json_object, read_body

log = logging.getLogger(__name__)

PATH = "/webhooks/vk"
EventHandler = Callable[[dict[str, Any]], Awaitable[None]]


class VkCallback:
    """The aiohttp handler of VK's Callback API for one community."""

    def __init__(
        self, group_id: int, secret: str, confirmation: str, handle: EventHandler
    ) -> None:
        if not secret or not confirmation:
            raise ValueError("the Callback API needs a secret and a confirmation string")
        self._group_id = group_id
        self._secret = secret.encode()
        self._confirmation = confirmation
        self._handle = handle
        self._seen = RecentIds()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post(PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        try:
            event = parse_json_object(raw)
            kind = field(event, "type", str)
            group_id = field(event, "group_id", int)
        except MalformedPayload as exc:
            return _refuse(400, str(exc))
        if group_id != self._group_id:
            return _refuse(403, f"not the community {self._group_id}")
        if kind == "confirmation":
            return web.Response(text=self._confirmation, content_type="text/plain")
        secret = event.get("secret")
        if not isinstance(secret, str) or not hmac.compare_digest(
            secret.encode("utf-8", "replace"), self._secret
        ):
            return _refuse(403, "wrong secret")
        event_id = event.get("event_id")
        if isinstance(event_id, str) and event_id in self._seen:
            log.debug("VK callback: event %s already handled", event_id)
            return _ok()
        try:
            await self._handle(event)
        except MalformedPayload as exc:
            return _refuse(400, str(exc))
        except Exception:
            log.exception("VK callback: the event could not be stored; VK will retry")
            return web.Response(status=503, text="not stored, retry later")
        if isinstance(event_id, str):
            self._seen.add(event_id)
        return _ok()


def _ok() -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


def _refuse(status: int, reason: str) -> web.Response:
    log.debug("VK callback refused (%s): %s", status, reason)
    return web.Response(status=status, text=reason, content_type="text/plain")
