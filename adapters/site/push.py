"""Operators' replies to visitors whose WebSocket is open on another process (PostgreSQL).

With several processes behind a load balancer, the outbox row of a reply is sent by whichever
process leased it, while the visitor's socket may be open on another one. So `SiteSender`,
after pushing to the sockets of its own process, announces the reply on the PostgreSQL channel
`CHANNEL` (storage/notify.py): `{"o": origin, "c": channel, "v": visitor, "m": message id}`
(well under the 8000-byte limit; a reply without a stored message carries its small view
instead). Every process LISTENs (`SitePush`, one component per service): for a visitor with
open sockets here, it reads the message from the database and pushes it, exactly as the
sender would. Its own announcements it skips (the sender pushed them already).

When the listening connection comes back after a drop, notifications of the gap are lost, so
every visitor with an open socket here is sent what was stored since the mark taken when it
last started listening (the widget shows each message id once). SQLite serves one process:
there is nothing to announce and nothing to listen to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bridge.components import ComponentState
from bridge.errors import TransientError
from storage.notify import MAX_PAYLOAD, Listener, notify
from storage.site import latest_message_id

if TYPE_CHECKING:
    from adapters.site.adapter import SiteAdapter

log = logging.getLogger(__name__)

#: The PostgreSQL notification channel of the site widgets' pushes.
CHANNEL = "talker_bridge_site"

#: How long `start` waits for LISTEN before going on (it keeps trying in the background).
START_WAIT = 5.0


class SitePush:
    """This process's side of the cross-process push: announce replies, listen for others'."""

    name = "site:push"

    def __init__(
        self,
        database: str,
        adapters: Mapping[str, SiteAdapter] | Callable[[], Mapping[str, SiteAdapter]],
        *,
        check_interval: float = 5.0,
        backoff_max: float = 30.0,
    ) -> None:
        self._adapters = adapters
        #: Tells this process's announcements from the others'.
        self.origin = secrets.token_hex(8)
        self.listener = Listener(
            database,
            CHANNEL,
            self._on_notify,
            self._on_listening,
            check_interval=check_interval,
            backoff_max=backoff_max,
        )
        self._mark: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        #: Replies pushed here on another process's announcement (for tests and the state).
        self.relayed = 0

    def _by_channel(self) -> Mapping[str, SiteAdapter]:
        return self._adapters() if callable(self._adapters) else self._adapters

    # ---- Component ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = True
        self.listener.start()
        try:
            async with asyncio.timeout(START_WAIT):
                await self.listener.wait_listening()
        except TimeoutError:
            log.warning("site: not listening for other processes' replies yet; retrying")

    async def stop(self) -> None:
        self._started = False
        await self.listener.stop()
        tasks, self._tasks = set(self._tasks), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def state(self) -> ComponentState:
        if not self._started:
            return ComponentState("stopped")
        if self.listener.listening:
            return ComponentState("running", f"{self.relayed} replies from other processes")
        reason = self.listener.last_error or "connecting"
        return ComponentState("degraded", f"not listening for other processes: {reason}")

    # ---- the sender's side --------------------------------------------------------------------

    async def announce(
        self,
        adapter: SiteAdapter,
        visitor: str,
        message_id: int | None,
        view: dict[str, Any] | None = None,
    ) -> None:
        """Tell the other processes about a reply (committed at once, on its own session).

        Raises TransientError when the database cannot take it (the outbox retries the row;
        a retried push shows the same message id once).
        """
        body: dict[str, Any] = {"o": self.origin, "c": adapter.channel, "v": visitor}
        if message_id is not None:
            body["m"] = message_id
        elif view is not None:
            body["view"] = view
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if len(payload.encode("utf-8")) > MAX_PAYLOAD:
            log.warning("site: a reply without a stored message is too big to announce")
            return
        try:
            async with adapter.sessions() as session:
                await notify(session, CHANNEL, payload)
                await session.commit()
        except Exception as exc:
            raise TransientError(f"could not announce the reply to others: {exc}") from exc

    # ---- the listening side -------------------------------------------------------------------

    def _on_notify(self, payload: str) -> None:
        body = json.loads(payload)
        if not isinstance(body, dict) or body.get("o") == self.origin:
            return
        adapter = self._by_channel().get(str(body.get("c")))
        visitor = body.get("v")
        if adapter is None or not isinstance(visitor, str) or not adapter.hub.count(visitor):
            return  # not a visitor of ours, or no socket of theirs is open here
        self._spawn(self._relay(adapter, visitor, body.get("m"), body.get("view")))

    async def _relay(
        self, adapter: SiteAdapter, visitor: str, message_id: object, view: object
    ) -> None:
        if isinstance(message_id, int):
            view = await adapter.stored_view(visitor, message_id)
        if not isinstance(view, dict):
            return
        if await adapter.hub.push(visitor, {"type": "message", "message": view}):
            self.relayed += 1

    async def _on_listening(self) -> None:
        """Listening (again): take a new mark, and catch up from the old one after a gap."""
        adapters = list(self._by_channel().values())
        if not adapters:
            return
        async with adapters[0].sessions() as session:
            mark = await latest_message_id(session)
        since, self._mark = self._mark, mark
        if since is None:
            return  # the first start: sockets read their history when they open
        for adapter in adapters:
            for visitor in adapter.hub.visitors():
                self._spawn(self._resync(adapter, visitor, since))

    async def _resync(self, adapter: SiteAdapter, visitor: str, since: int) -> None:
        for message in await adapter.history.since(visitor, since):
            await adapter.hub.push(visitor, {"type": "message", "message": message})

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("site: a push from another process failed", exc_info=task.exception())
