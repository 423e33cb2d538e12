"""`POST /webhooks/vk`: VK's Callback API.

Contract (dev.vk.com, "Callback API"): `confirmation` is answered with the
configured string; every other body must carry the configured `secret` (else 403, nothing
stored); a repeated `event_id` is answered `ok` without work; `ok` is answered only after the
core committed the event — any other answer makes VK deliver it again. A malformed body gets
400 and never reaches the core.

With storage (`use_storage`, wired by adapters/vk/platform.py), handled `event_id`s are kept in
the processed-events table (source `vk:event`) before `ok` is answered, so a repeat delivered
after a restart changes nothing; an event that fails deterministically (a few tries) is kept as
a dead letter and answered `ok` (VK stops redelivering it); a transient failure (the database
unreachable) is answered 503 and VK delivers it again. A message's event id is recorded in the
transaction that stores the message (`processed_as`, bridge/core/sink_batches.py), so
concurrent callbacks share the sink's group commit and cost no commit of their own.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.common.recent import RecentIds
from adapters.common.webhook_input import MalformedPayload, field, parse_json_object, read_body
from bridge.core.sink_batches import ProcessedAs, processed_as
from bridge.dead_letters import Verdict
from storage.state import event_processed, mark_event_processed

if TYPE_CHECKING:
    from bridge.dead_letters import DeadLetters, Transaction

log = logging.getLogger(__name__)

PATH = "/webhooks/vk"
#: The processed-events source of Callback API event ids, and the dead letters' source.
EVENT_SOURCE = "vk:event"
DEAD_LETTER_SOURCE = "vk"
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
        self._letters: DeadLetters | None = None
        self._transaction: Transaction | None = None

    def use_storage(self, dead_letters: DeadLetters, transaction: Transaction) -> None:
        """Keep handled event ids in the database and poison events as dead letters."""
        self._letters = dead_letters
        self._transaction = transaction
        dead_letters.register(DEAD_LETTER_SOURCE, self.replay)

    async def replay(self, payload: str) -> None:
        """Handle a dead letter's event again (`talker-bridge dead-letters replay`)."""
        event = parse_json_object(payload.encode())
        await self._handle(event)
        await self._remember(event.get("event_id"))

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
        if isinstance(event_id, str) and await self._handled_before(event_id, kind):
            log.debug("VK callback: event %s already handled", event_id)
            return _ok()
        marking = (
            processed_as(EVENT_SOURCE, event_id)  # recorded with its message (one commit)
            if isinstance(event_id, str)
            else contextlib.nullcontext(ProcessedAs("", ""))
        )
        with marking as mark:
            if self._letters is None:
                try:
                    await self._handle(event)
                except MalformedPayload as exc:
                    return _refuse(400, str(exc))
                except Exception:
                    log.exception("VK callback: the event could not be stored; VK will retry")
                    return web.Response(status=503, text="not stored, retry later")
            else:
                kept = {k: v for k, v in event.items() if k != "secret"}
                try:
                    verdict = await self._letters.in_request(
                        DEAD_LETTER_SOURCE,
                        event_id if isinstance(event_id, str) else kind,
                        json.dumps(kept, ensure_ascii=False),
                        lambda: self._handle(event),
                        refused=(MalformedPayload,),
                    )
                except MalformedPayload as exc:
                    return _refuse(400, str(exc))
                if verdict is Verdict.RETRY:
                    return web.Response(status=503, text="not stored, retry later")
        if mark.recorded:  # stored with its message, in the same transaction
            self._seen.add(str(event_id))
        elif not await self._remember(event_id):
            return web.Response(status=503, text="stored; the event id was not, retry later")
        return _ok()

    async def _handled_before(self, event_id: str, kind: str) -> bool:
        if event_id in self._seen:
            return True
        if self._transaction is None or kind == "message_new":
            # a new message needs no look-up of its own: its event id is recorded with it and
            # its message id dedupes it (a repeat stores nothing), in the shared commit
            return False
        try:
            async with self._transaction() as session:
                seen = await event_processed(session, EVENT_SOURCE, event_id)
        except Exception:  # handling it again is safe (the core dedupes its effects)
            log.warning("VK callback: could not look event %s up", event_id, exc_info=True)
            return False
        if seen:
            self._seen.add(event_id)
        return seen

    async def _remember(self, event_id: object) -> bool:
        """Record a handled event id (in the database when there is one); False if that failed."""
        if not isinstance(event_id, str):
            return True
        if self._transaction is not None:
            try:
                async with self._transaction() as session:
                    await mark_event_processed(session, EVENT_SOURCE, event_id)
            except Exception:
                log.warning("VK callback: event %s handled, not recorded", event_id, exc_info=True)
                return False
        self._seen.add(event_id)
        return True


def _ok() -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


def _refuse(status: int, reason: str) -> web.Response:
    log.debug("VK callback refused (%s): %s", status, reason)
    return web.Response(status=status, text=reason, content_type="text/plain")
