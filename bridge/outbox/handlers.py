"""Completion and failure handlers, registered by name and stored on each outbox row.

A row's `handler` names what to do once the call has a result (record a card's message id, a
topic's thread id) or has failed for good (tell the operator in the conversation's place).
Handlers run inside the SAME transaction that marks the row done or failed, so the link and
the state change commit together. They must not call platforms; to send something, enqueue.

Each process has one registry (bridge/runtime.py), filled at wiring time by the code that
owns the handlers, with the names as constants of that code:

    registry.register(CARD_POSTED, done=functools.partial(card_posted, desk))
    registry.register(RELAY, failed=relay_failed)

A worker sends a row only when its registry knows the row's handler (bridge/outbox/worker.py):
a name nobody registered is a wiring mistake, and the row waits for a worker that knows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bridge.errors import PermanentError

DoneHandler = Callable[[Any, Any, dict[str, Any]], Awaitable[None]]
FailedHandler = Callable[[Any, Any, PermanentError], Awaitable[None]]


class HandlerRegistry:
    """Name → handler maps for completions and failures (one per process, no global)."""

    def __init__(self) -> None:
        self.done: dict[str, DoneHandler] = {}
        self.failed: dict[str, FailedHandler] = {}

    def register(
        self,
        name: str,
        *,
        done: DoneHandler | None = None,
        failed: FailedHandler | None = None,
    ) -> None:
        """`done(session, item, result)` runs when a row with this handler is sent,
        `failed(session, item, error)` when it fails for good; at least one of them."""
        if done is None and failed is None:
            raise ValueError(f"handler {name!r}: give done=, failed= or both")
        if done is not None:
            _check_free(self.done, name, "on_done")
        if failed is not None:
            _check_free(self.failed, name, "on_failed")
        if done is not None:
            self.done[name] = done
        if failed is not None:
            self.failed[name] = failed

    def on_done(self, name: str) -> Callable[[DoneHandler], DoneHandler]:
        """Decorator form of `register(name, done=fn)` (for handlers defined in place)."""

        def register(fn: DoneHandler) -> DoneHandler:
            self.register(name, done=fn)
            return fn

        return register

    def on_failed(self, name: str) -> Callable[[FailedHandler], FailedHandler]:
        """Decorator form of `register(name, failed=fn)`."""

        def register(fn: FailedHandler) -> FailedHandler:
            self.register(name, failed=fn)
            return fn

        return register

    def knows(self, name: str | None) -> bool:
        """True for no handler at all, or a name registered for completion or failure."""
        return name is None or name in self.done or name in self.failed


def _check_free(table: dict[str, Any], name: str, what: str) -> None:
    if not name or not isinstance(name, str):
        raise ValueError(f"{what} handler name must be a non-empty string, got {name!r}")
    if name in table:
        raise ValueError(f"{what} handler {name!r} is already registered")
