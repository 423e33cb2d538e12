"""What the composition root starts and stops: the interface of every long-lived part.

A component is an adapter's poller, the outbox worker, the desk, the scheduler… `start` may do I/O
and may raise (the service then refuses to start and says why); `stop` must not raise,
finishes work in flight and leaves the rest durably queued. `state` is cheap, does no I/O
and feeds /healthz.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from aiohttp import web

StateName = Literal["starting", "running", "degraded", "stopped", "failed"]


@dataclass(frozen=True, slots=True)
class ComponentState:
    """What /healthz reports for one component."""

    state: StateName
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.state in ("running", "degraded")


@runtime_checkable
class Component(Protocol):
    """A part of the service with a lifetime."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def state(self) -> ComponentState: ...


@runtime_checkable
class HasRoutes(Protocol):
    """A component that serves HTTP (webhooks, the site widget) on the service's one server."""

    def routes(self) -> list[web.AbstractRouteDef]: ...


class RoutesOnly:
    """A component that only serves routes (it holds nothing, so start and stop do nothing)."""

    def __init__(self, name: str, routes: Callable[[], list[web.AbstractRouteDef]]) -> None:
        self.name = name
        self._routes = routes

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def state(self) -> ComponentState:
        return ComponentState("running")

    def routes(self) -> list[web.AbstractRouteDef]:
        return self._routes()
