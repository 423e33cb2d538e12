"""The outbox worker as a service component (it sends the desk's and every outlet's rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.components import ComponentState

if TYPE_CHECKING:
    from desk.runtime import DeskRuntime


class OutboxComponent:
    """Starts the outbox worker on the shared runtime; stops it draining calls in flight."""

    name = "outbox"

    def __init__(self, runtime: DeskRuntime) -> None:
        self.runtime = runtime
        self._running = False

    async def start(self) -> None:
        await self.runtime.open()
        worker = self.runtime.make_worker()
        await worker.start()
        self._running = True

    async def stop(self) -> None:
        if self.runtime.worker is not None:
            await self.runtime.worker.stop(drain=True)
            self.runtime.worker = None
        self._running = False
        await self.runtime.close()

    def state(self) -> ComponentState:
        return ComponentState("running" if self._running else "stopped")
