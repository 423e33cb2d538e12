"""The runtime's outbox worker as a service component (it sends the desk's and outlets' rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.components import ComponentState

if TYPE_CHECKING:
    from bridge.runtime import Runtime


class OutboxComponent:
    """Starts the runtime's worker; stops it draining the calls in flight."""

    name = "outbox"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def start(self) -> None:
        await self.runtime.start_worker()

    async def stop(self) -> None:
        await self.runtime.stop_worker(drain=True)

    def state(self) -> ComponentState:
        return ComponentState("running" if self.runtime.worker is not None else "stopped")
