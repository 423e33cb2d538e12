"""Update delivery for one bot: a queue read by getUpdates (long polling) or pushed to a webhook.

getUpdates: `offset` confirms everything before it, `limit` 1-100, `timeout` waits until an
update arrives (woken at once). With a webhook set, a delivery task POSTs one update at a time,
in order, with the `X-Telegram-Bot-Api-Secret-Token` header; a non-2xx answer or a connection
error is retried with exponential backoff and the update stays at the head of the queue, so
order holds. After `max_attempts` failures the update is dropped, as Telegram does after "a
reasonable number of times". A JSON body with a "method" in a 2xx answer is executed, like
Telegram's reply-to-webhook feature.

`restart_ids` plays what Telegram does after a week without updates: "the identifier of the
next update will be chosen randomly instead of sequentially" — lower than before, so a bot's
stored offset is above it, and it may equal an id the bot processed long ago. getUpdates with
an offset above every pending id confirms (drops) them, as the spec says for an offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # Telegram's default leaves out chat_member, message_reaction, message_reaction_count

WebhookReply = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class WebhookSettings:
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    max_attempts: int = 20
    request_timeout: float = 10.0


@dataclass
class UpdateFeed:
    """Pending updates of one bot."""

    settings: WebhookSettings = field(default_factory=WebhookSettings)
    on_webhook_reply: WebhookReply | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    allowed: frozenset[str] = DEFAULT_ALLOWED
    webhook: Webhook | None = None
    delivered: int = 0
    dropped: int = 0
    _next_id: int = 1
    _arrived: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None

    def _event(self) -> asyncio.Event:
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update of `kind`, unless the bot's allowed_updates leaves it out."""
        if kind not in self.allowed:
            return None
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self.pending.append(update)
        self._event().set()
        return update

    def restart_ids(self, first: int | None = None) -> int:
        """The next update id is `first` (default: random, below every id given so far);
        returns it."""
        if first is None:
            first = random.randint(1, max(1, self._next_id // 2))
        if first < 1:
            raise ValueError(f"update ids are positive, got {first}")
        self._next_id = first
        return first

    def confirm(self, offset: int) -> None:
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    async def get(self, offset: int, limit: int, wait: float) -> list[dict[str, Any]]:
        self.confirm(offset)
        if not self.pending and wait > 0:
            event = self._event()
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), wait)
        return self.pending[:limit]

    def drop_pending(self) -> None:
        self.pending.clear()

    # webhook side

    def set_webhook(self, webhook: Webhook) -> None:
        self.webhook = webhook
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._deliver_forever())
        self._event().set()

    async def delete_webhook(self) -> None:
        self.webhook = None
        await self.stop()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _deliver_forever(self) -> None:
        attempts = 0
        while self.webhook is not None:
            if not self.pending:
                event = self._event()
                event.clear()
                await event.wait()
                continue
            update = self.pending[0]
            webhook = self.webhook
            error = await self._post(webhook, update)
            if error is None:
                attempts = 0
                self.delivered += 1
                self._remove(update)
                continue
            attempts += 1
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            if attempts >= self.settings.max_attempts:
                log.warning("dropping update %s after %d attempts", update["update_id"], attempts)
                self.dropped += 1
                self._remove(update)
                attempts = 0
                continue
            delay = min(
                self.settings.backoff_max, self.settings.backoff_initial * 2 ** (attempts - 1)
            )
            await asyncio.sleep(delay)

    def _remove(self, update: dict[str, Any]) -> None:
        if self.pending and self.pending[0] is update:
            self.pending.pop(0)

    async def _post(self, webhook: Webhook, update: dict[str, Any]) -> str | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout)
            )
        headers = {}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        try:
            async with self._session.post(webhook.url, json=update, headers=headers) as resp:
                body = await resp.read()
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {type(error).__name__}"
        await self._run_reply(body)
        return None

    async def _run_reply(self, body: bytes) -> None:
        if not body or self.on_webhook_reply is None:
            return
        try:
            reply = json.loads(body)
        except ValueError:
            return
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            params = {k: v for k, v in reply.items() if k != "method"}
            await self.on_webhook_reply(reply["method"], params)
