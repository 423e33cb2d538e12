"""The parts of a platform that one adapter serves (VK, Viber, Facebook).

The adapter is the component (webhook routes or a poller), its `sender` delivers the platform's
outbox rows, the generic `PlatformOutlet` turns operators' replies into rows, and the adapter
looks customers up by id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from adapters.common.outlet import PlatformOutlet
from bridge.adapter import Adapter, LooksUpProfiles
from bridge.platforms import PlatformParts

if TYPE_CHECKING:
    from bridge.outbox import Sender
    from bridge.platforms import PlatformContext


class SendingAdapter(Adapter, LooksUpProfiles, Protocol):
    """An adapter with its outbox sender that can look its customers up."""

    @property
    def sender(self) -> Sender: ...


def one_adapter_parts(adapter: SendingAdapter, context: PlatformContext) -> PlatformParts:
    """`adapter` as its platform's only part (its channel is the platform's name)."""
    return PlatformParts(
        components=[adapter],
        sender=adapter.sender,
        outlet=PlatformOutlet(adapter.channel, context.file_link),
        profiles={adapter.channel: adapter},
    )
