"""Completion and failure handlers, registered by name and stored on each outbox row.

A row's `handler` names what to do once the call has a result (record a card's message id, a
topic's thread id) or has failed for good (tell the operator in the conversation's place).
Handlers run inside the SAME transaction that marks the row done or failed, so the link and
the state change commit together. They must not call platforms; to send something, enqueue.

    @outbox.on_done("card_posted")
    async def card_posted(session, item, result): ...

    @outbox.on_failed("relay")
    async def relay_failed(session, item, error): ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bridge.errors import PermanentError

DoneHandler = Callable[[Any, Any, dict[str, Any]], Awaitable[None]]
FailedHandler = Callable[[Any, Any, PermanentError], Awaitable[None]]


class HandlerRegistry:
    """Name → handler maps for completions and failures."""

    def __init__(self) -> None:
        self.done: dict[str, DoneHandler] = {}
        self.failed: dict[str, FailedHandler] = {}

    def on_done(self, name: str) -> Callable[[DoneHandler], DoneHandler]:
        """Register `fn(session, item, result)` to run when a row with this handler is sent."""

        def register(fn: DoneHandler) -> DoneHandler:
            _check_free(self.done, name, "on_done")
            self.done[name] = fn
            return fn

        return register

    def on_failed(self, name: str) -> Callable[[FailedHandler], FailedHandler]:
        """Register `fn(session, item, error)` to run when a row with this handler fails."""

        def register(fn: FailedHandler) -> FailedHandler:
            _check_free(self.failed, name, "on_failed")
            self.failed[name] = fn
            return fn

        return register


def _check_free(table: dict[str, Any], name: str, what: str) -> None:
    if not name or not isinstance(name, str):
        raise ValueError(f"{what} handler name must be a non-empty string, got {name!r}")
    if name in table:
        raise ValueError(f"{what} handler {name!r} is already registered")


#: The process-wide registry that `on_done`/`on_failed` fill and workers use by default.
handlers = HandlerRegistry()
on_done = handlers.on_done
on_failed = handlers.on_failed
