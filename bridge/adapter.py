"""The customer-side seam: what an adapter offers the core, and what the core offers it.

An adapter knows its platform (payload parsing, signature checks, profile lookup, sending) and
nothing of conversations. It converts platform payloads into `bridge.events` dataclasses at the
edge and reports them to the core through `CoreSink`; platform errors become `bridge.errors`
exceptions.
Optional abilities are separate small protocols the core checks with isinstance().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bridge.components import Component
from bridge.events import CustomerProfile, Inbound

DeliveryState = Literal["sent", "delivered", "seen", "failed"]


class CoreSink(Protocol):
    """What an adapter may tell the core. Every call commits before it returns.

    An adapter acknowledges a webhook (or advances a poll offset) only after the call returned:
    that is what makes an inbound event durable. Calls are idempotent by their ids.
    """

    async def inbound(self, event: Inbound) -> bool:
        """Store a customer's message or edit; False when it was a duplicate (already stored)."""
        ...

    async def delivery(
        self, channel: str, external_id: str, state: DeliveryState, error: str | None = None
    ) -> None:
        """A platform reported what became of a message we sent (by the platform's message id)."""
        ...

    async def reachability(
        self, channel: str, user: str, reachable: bool, reason: str | None = None
    ) -> None:
        """The customer can (again) or can no longer be written to (unsubscribed, denied…)."""
        ...

    async def profile(self, channel: str, user: str, profile: CustomerProfile) -> None:
        """A customer's name became known later (a profile lookup finished)."""
        ...


@runtime_checkable
class Adapter(Component, Protocol):
    """A customer platform. `name` is `channel:<channel>` (so /healthz can report it).

    `start` connects (or starts a poller) and may raise; `stop` finishes what is in flight and
    never raises. Sending goes through the outbox with the adapter's `sender` (bridge.outbox's
    Sender protocol), never directly.
    """

    channel: str


@runtime_checkable
class LooksUpProfiles(Protocol):
    """An adapter that can ask its platform who a customer is (I/O; raises bridge errors)."""

    async def lookup_profile(self, user: str) -> CustomerProfile | None: ...


@dataclass(frozen=True, slots=True)
class StoredInbound:
    """What the core made of a new inbound event: the ids of the message it stored and of its
    conversation (None when it stored no message: a rating's press, bridge/core/ratings.py)."""

    message_id: int | None
    conversation_id: int | None = None


@runtime_checkable
class TellsStoredInbound(Protocol):
    """A core sink that also says which message it stored (the widget shows it to the visitor
    without reading it back)."""

    async def inbound_stored(self, event: Inbound) -> StoredInbound | None:
        """`CoreSink.inbound`: commits before it returns; None for a duplicate or a refused
        event (False there), else what was stored."""
        ...
