"""Bots Long Poll: `groups.getLongPollServer`, then `a_check` in a loop, events to a handler.

Contract (dev.vk.com, "Bots Long Poll API"): the answer is `{ts, updates}` or
`{failed: 1, ts}` (continue from the new ts), `{failed: 2}` (fetch a new key),
`{failed: 3}` (fetch a new key and ts). The `ts` is advanced only after the handler returned
for every event of the answer, so a lost connection, a VK outage or a failing core resumes
from the same ts and loses nothing (the core drops what it already stored). The events of one
answer are settled together (each user's in order, the users at once), so their messages share
the sink's group commit.

With dead letters (`use_dead_letters`), each event is settled on its own: a passing fault (the
database unreachable) is retried for as long as it takes, and an event that fails the same way a
few times (a malformed event, a handler's bug) is kept as a dead letter instead of holding the
whole dialog back forever; the ts then moves on. `talker-bridge dead-letters replay` feeds it
again through `replay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from adapters.common.webhook_input import MalformedPayload, parse_json_object
from adapters.vk.client import VkClient
from bridge.components import ComponentState
from bridge.errors import TransientError

if TYPE_CHECKING:
    from bridge.dead_letters import DeadLetters

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
TsStore = Callable[[str], Awaitable[None]]


class VkLongPoller:
    """Polls one community's Bots Long Poll server until stopped."""

    def __init__(
        self,
        client: VkClient,
        group_id: int,
        handle: EventHandler,
        *,
        wait: int = 25,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
        initial_ts: str | None = None,
        save_ts: TsStore | None = None,
    ) -> None:
        if not 1 <= wait <= 90:
            raise ValueError("wait is 1..90 seconds (VK recommends 25)")
        self._client = client
        self._group_id = group_id
        self._handle = handle
        self._wait = wait
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._save_ts = save_ts
        self.ts: str | None = initial_ts
        self._server: str | None = None
        self._key: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._state = ComponentState("stopped")
        self.polls = 0
        self._letters: DeadLetters | None = None
        self._source = "vk"

    def use_dead_letters(self, dead_letters: DeadLetters, source: str) -> None:
        """Settle each event through `dead_letters` (kept under `source` if it fails for good)."""
        self._letters = dead_letters
        self._source = source
        dead_letters.register(source, self.replay)

    async def replay(self, payload: str) -> None:
        """Handle a dead letter's event again (`talker-bridge dead-letters replay`)."""
        await self._handle(parse_json_object(payload.encode()))

    def state(self) -> ComponentState:
        return self._state

    async def start(self) -> None:
        """Fetch the server (raises bridge errors: a bad token stops the start) and poll."""
        self._state = ComponentState("starting")
        await self._fetch_server(keep_ts=self.ts is not None)
        timeout = aiohttp.ClientTimeout(total=self._wait + 15, connect=10)
        self._http = aiohttp.ClientSession(timeout=timeout)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="vk-longpoll")
        self._state = ComponentState("running")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._state = ComponentState("stopped")

    async def _fetch_server(self, *, keep_ts: bool) -> None:
        answer = await self._client.call("groups.getLongPollServer", group_id=self._group_id)
        try:
            server, key = str(answer["server"]), str(answer["key"])
            ts = str(answer["ts"])
        except (KeyError, TypeError) as exc:
            raise TransientError(f"groups.getLongPollServer answered {answer!r:.200}") from exc
        self._server = server if "://" in server else f"https://{server}"
        self._key = key
        if not keep_ts or self.ts is None:
            self.ts = ts

    async def _run(self) -> None:
        delay = self._retry_delay
        while True:
            try:
                await self._poll_once()
                delay = self._retry_delay
                if self._state.state != "running":
                    self._state = ComponentState("running")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the poller must outlive any failure
                detail = f"{type(exc).__name__}: {exc}"
                log.warning("VK long poll: %s; retrying in %.1fs", detail, delay)
                self._state = ComponentState("degraded", detail[:200])
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_delay)

    async def _poll_once(self) -> None:
        answer = await self._check()
        self.polls += 1
        failed = answer.get("failed")
        if failed is not None:
            await self._recover(failed, answer)
            return
        updates, new_ts = answer.get("updates"), answer.get("ts")
        if not isinstance(updates, list) or new_ts is None:
            raise TransientError(f"long poll answered {answer!r:.200}")
        await self._settle_all(updates)
        self.ts = str(new_ts)
        if self._save_ts is not None:
            await self._save_ts(self.ts)

    async def _settle_all(self, updates: list[Any]) -> None:
        """Settle one answer's events together: each customer's in order, the customers at once,
        so their messages share the sink's group commit. Returns when every one is settled;
        then raises the first failure (the ts stays, the answer comes again)."""
        chains: dict[Any, list[Any]] = {}
        for event in updates:
            chains.setdefault(sender_of(event), []).append(event)

        async def settle_chain(chain: list[Any]) -> None:
            for event in chain:
                if self._letters is not None:
                    await self._settle(self._letters, event)
                    continue
                try:
                    await self._handle(event)
                except MalformedPayload as exc:
                    log.warning("VK long poll: skipping a malformed event (%s): %r", exc, event)

        if len(chains) <= 1:
            for chain in chains.values():
                await settle_chain(chain)
            return
        outcomes = await asyncio.gather(
            *(settle_chain(chain) for chain in chains.values()), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _settle(self, letters: DeadLetters, event: Any) -> None:
        key = event.get("event_id") if isinstance(event, dict) else None
        if not isinstance(key, str) or not key:
            key = f"ts:{self.ts}"

        def waiting(error: BaseException | None) -> None:
            if error is None:
                self._state = ComponentState("running")
            else:
                self._state = ComponentState("degraded", f"event {key} waits: {error}"[:200])

        await letters.until_settled(
            self._source,
            key,
            json.dumps(event, ensure_ascii=False),
            lambda: self._handle(event),
            on_transient=waiting,
        )

    async def _recover(self, failed: Any, answer: dict[str, Any]) -> None:
        if failed == 1 and answer.get("ts") is not None:
            log.info("VK long poll: history lost (failed 1); continuing from ts %s", answer["ts"])
            self.ts = str(answer["ts"])
        elif failed == 2:
            log.info("VK long poll: key expired (failed 2); fetching a new key")
            await self._fetch_server(keep_ts=True)
        else:
            log.info("VK long poll: key and ts lost (failed %s); starting afresh", failed)
            await self._fetch_server(keep_ts=False)

    async def _check(self) -> dict[str, Any]:
        assert self._http is not None and self._server is not None
        params = {"act": "a_check", "key": self._key or "", "ts": self.ts or ""}
        params["wait"] = str(self._wait)
        try:
            async with self._http.get(self._server, params=params) as response:
                if response.status != 200:
                    raise TransientError(f"long poll server answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TransientError(f"long poll: {type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, dict):
            raise TransientError(f"long poll answered {answer!r:.200}")
        return answer


def sender_of(event: Any) -> Any:
    """The VK user an event is about (None when it names none): one user's events keep their
    order; different users' are settled at once."""
    obj = event.get("object") if isinstance(event, dict) else None
    if not isinstance(obj, dict):
        return None
    message = obj.get("message")
    message = message if isinstance(message, dict) else obj
    for key in ("from_id", "user_id", "peer_id"):
        value = message.get(key, obj.get(key))
        if isinstance(value, int | str) and not isinstance(value, bool):
            return str(value)
    return None
