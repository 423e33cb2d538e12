"""What a platform event means to the core, and handing it to the `CoreSink`.

Each adapter's convert module turns a platform payload into a list of these updates (pure, no
I/O); the adapter then applies them in order with `apply`, which returns only after the sink
committed — the moment the platform may be acknowledged. `apply_by_customer` applies the
updates of one delivery (a webhook body with many events, a poll's answer) together: each
customer's in order, the customers at once, so their messages share the sink's group commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, replace

from bridge.adapter import CoreSink, DeliveryState
from bridge.errors import BridgeError
from bridge.events import CustomerProfile, Inbound

log = logging.getLogger(__name__)


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


async def apply_by_customer(
    sink: CoreSink,
    channel: str,
    updates: Sequence[Update],
    prepare: Callable[[Update], Awaitable[Update]] | None = None,
) -> None:
    """Apply `updates` (each after `prepare`, e.g. a name lookup): one customer's in the order
    given, different customers' at once, so their messages are stored by the same commits.
    Every update is prepared first (each customer's lookups in turn, the customers at once),
    then all are handed over in one go. Returns once every one is stored; then raises the
    first failure, if any."""
    chains: dict[Hashable, list[Update]] = {}
    for update in updates:
        chains.setdefault(customer_of(update), []).append(update)
    if prepare is not None:

        async def prepared(chain: list[Update]) -> list[Update]:
            return [await prepare(update) for update in chain]

        ready = await asyncio.gather(*(prepared(chain) for chain in chains.values()))
        chains = dict(zip(chains, ready, strict=True))

    async def run(chain: list[Update]) -> None:
        for update in chain:
            await apply(sink, channel, update)

    if len(chains) == 1:
        await run(next(iter(chains.values())))
        return
    outcomes = await asyncio.gather(*(run(c) for c in chains.values()), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def customer_of(update: Update) -> Hashable:
    """Whose update it is (None: not one customer's; those keep their order together)."""
    if isinstance(update, InboundUpdate):
        return update.event.user
    if isinstance(update, ReachabilityUpdate):
        return update.user
    return None


#: Longest a webhook waits for a customer's name before posting them as a guest.
PROFILE_TIMEOUT = 5.0


async def with_profile(
    update: InboundUpdate,
    lookup: Callable[[str], Awaitable[CustomerProfile | None]],
    platform: str,
) -> InboundUpdate:
    """`update` with the customer's looked-up name; unchanged (a guest for now) when the lookup
    fails or is slow — the core's later lookups fill the name in."""
    try:
        profile = await asyncio.wait_for(lookup(update.event.user), PROFILE_TIMEOUT)
    except (BridgeError, TimeoutError) as exc:
        log.info("%s: no name for %s yet (%s); a guest for now", platform, update.event.user, exc)
        return update
    return update if profile is None else InboundUpdate(replace(update.event, profile=profile))
