"""The open WebSockets of one widget's visitors: a visitor may have several tabs open."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class Hub:
    """Visitor id → their open sockets; pushes JSON to all of them."""

    def __init__(self) -> None:
        self._sockets: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def add(self, visitor: str, socket: web.WebSocketResponse) -> None:
        self._sockets[visitor].add(socket)

    def remove(self, visitor: str, socket: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(visitor)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[visitor]

    def visitors(self) -> list[str]:
        """The visitors with at least one open socket here."""
        return list(self._sockets)

    def count(self, visitor: str | None = None) -> int:
        """Open sockets of one visitor, or of everyone."""
        if visitor is not None:
            return len(self._sockets.get(visitor, ()))
        return sum(len(s) for s in self._sockets.values())

    async def push(self, visitor: str, data: dict[str, Any]) -> int:
        """Send `data` to every open socket of `visitor`; returns how many took it."""
        delivered = 0
        for socket in list(self._sockets.get(visitor, ())):
            if socket.closed:
                self.remove(visitor, socket)
                continue
            try:
                await socket.send_json(data)
                delivered += 1
            except (ConnectionError, RuntimeError) as exc:
                log.debug("site: a socket closed while pushing: %s", exc)
                self.remove(visitor, socket)
        return delivered

    async def close_all(self) -> None:
        for visitor, sockets in list(self._sockets.items()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server stopping")
            self._sockets.pop(visitor, None)
