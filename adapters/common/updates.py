"""What a platform event means to the core, and handing it to the `CoreSink`.

Each adapter's convert module turns a platform payload into a list of these updates (pure, no
I/O); the adapter then applies them in order with `apply`, which returns only after the sink
committed — the moment the platform may be acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.adapter import CoreSink, DeliveryState
from bridge.events import Inbound


@dataclass(frozen=True, slots=True)
class InboundUpdate:
    """A customer's message (or edit)."""

    event: Inbound


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What became of a message we sent (by the platform's message id)."""

    external_id: str
    state: DeliveryState
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ReachabilityUpdate:
    """The customer can (again) or can no longer be written to."""

    user: str
    reachable: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event the bridge has no use for; `reason` is logged at debug."""

    reason: str


Update = InboundUpdate | DeliveryUpdate | ReachabilityUpdate | Ignored


async def apply(sink: CoreSink, channel: str, update: Update) -> bool:
    """Hand one update to the core; True when it stored something new (False: duplicate)."""
    if isinstance(update, InboundUpdate):
        return await sink.inbound(update.event)
    if isinstance(update, DeliveryUpdate):
        await sink.delivery(channel, update.external_id, update.state, update.error)
        return True
    if isinstance(update, ReachabilityUpdate):
        await sink.reachability(channel, update.user, update.reachable, update.reason)
        return True
    return False
