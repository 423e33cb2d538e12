"""A customer platform as one descriptor: what the rest of the service may know of it.

Each `adapters/<platform>/` exports one `Platform` (its `PLATFORM`), and the composition root
lists them in one registry (`app/platforms.py`). Nothing outside a platform's folder branches on
its name: the config schema validates its section with `section`, the wiring calls `build`,
the outbox paces its calls with `buckets`, cards and avatars show `display_names` and `badge`.

Contract of the callables: `build` may do no I/O (components do theirs in `start`) and may raise
only for a section it cannot serve; `buckets` and `channels` are pure and cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic import BaseModel

    from bridge.avatars.badges import Badge
    from bridge.components import Component
    from bridge.outbox.policy import Bucket


class BucketMaker(Protocol):
    """Makes pacing buckets: `rate(key, per_second, burst=1)`; keys are prefixed by the policy."""

    def rate(self, key: str, per_second: float, burst: int = 1) -> Bucket: ...


#: (destination, maker) -> the buckets a call to `destination` must pass, in order.
BucketsFor = Callable[[str, BucketMaker], Sequence["Bucket"]]


@dataclass(frozen=True, slots=True)
class PlatformParts:
    """What `Platform.build` returns: the platform's running parts for one config section.

    `components` are started and stopped by the service (adapters, pollers, routes);
    `sender` delivers the platform's outbox rows (bridge.outbox's `Sender`); `outlet` turns an
    operator's reply into outbox rows (bridge.core.desk's `Outlet`); `profiles` looks customers
    up by id (bridge.adapter's `LooksUpProfiles`), when the platform can.
    """

    components: Sequence[Component]
    sender: Any
    outlet: Any
    profiles: Any = None


@dataclass(frozen=True, slots=True)
class Platform:
    """One customer platform.

    `name` is the channel's key under `channels:` in the config, the outbox `platform` and the
    prefix of its channel names (`site:<widget>`: a platform may serve several channels).
    """

    name: str
    #: The pydantic model of `channels.<name>` (a `config.fields.Section`); the adapter's settings.
    section: type[BaseModel]
    #: Language code -> the platform's name as operators and customers read it.
    display_names: Mapping[str, str]
    badge: Badge
    #: The longest text one message may carry on this platform (None: no limit of its own).
    max_text: int | None
    #: Build the platform's parts from its section and what the composition root offers.
    build: Callable[[Any, Any], PlatformParts]
    #: The pacing buckets of one call (None: unlimited, e.g. our own widget).
    buckets: Callable[[Any], BucketsFor] | None = None
    #: The channels one section turns on, with the operators' group each names.
    channels: Callable[[Any], Iterable[tuple[str, str]]] | None = None
    #: Extra keyword arguments for whatever the root needs that the fields above do not cover.
    extras: Mapping[str, Any] = field(default_factory=dict)

    def display_name(self, language: str) -> str:
        return self.display_names.get(language) or self.display_names.get("en") or self.name
