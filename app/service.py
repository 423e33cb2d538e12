"""The composition root of `talker-bridge run`: storage, components, and the HTTP listeners.

Start order: migrate the database (once, here), open the runtime (the process's one engine,
bridge/runtime.py), start the components (outbox worker, desk, adapters), then listen. Stop
order is the reverse: stop listening (no new webhooks), stop the components (each finishes
work in flight and leaves the rest durably queued), close the runtime.

The main listener serves webhooks, the widget and /healthz's status to everyone. /metrics and
/healthz's details go to whom `monitoring_access` says (bridge/web/metrics.py): with
`http.internal`, only to a second listener (the main one then has no /metrics at all); else on
the main listener with `http.metrics_token`, or to this machine itself when neither is set.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from bridge.components import Component, ComponentState, HasRoutes
from bridge.runtime import Runtime
from bridge.web.bodies import DEFAULT_BODY_LIMIT, limit_bodies
from bridge.web.health import health_handler
from bridge.web.metrics import (
    CHANNEL_UP,
    DATABASE_UP,
    DEAD_LETTERS,
    UP,
    MonitoringAccess,
    count_requests,
    guarded_metrics_handler,
)

if TYPE_CHECKING:
    from bridge.helpdesk import Helpdesk
    from config import BridgeConfig

log = logging.getLogger(__name__)

#: How long a stop waits for HTTP requests in flight before closing their connections.
SHUTDOWN_TIMEOUT = 10.0


class Service:
    """One running bridge process: its runtime (app/wiring.py made the components on it)."""

    def __init__(
        self,
        config: BridgeConfig,
        components: Sequence[Component] = (),
        *,
        runtime: Runtime | None = None,
        host: str | None = None,
        port: int | None = None,
        internal_port: int | None = None,
    ) -> None:
        """`host`, `port` and `internal_port` override the config's (0: any free port; the
        bound ones are in `port` and `internal_port` once started)."""
        self.config = config
        self.components = list(components)
        self.runtime = runtime if runtime is not None else Runtime(config.database)
        self.host = host if host is not None else config.http.host
        self.port = port if port is not None else config.http.port
        internal = config.http.internal
        #: The internal listener's address (None: no internal listener).
        self.internal_host: str | None = internal.host if internal is not None else None
        self.internal_port: int | None = None
        if internal is not None:
            self.internal_port = internal_port if internal_port is not None else internal.port
        self._runners: list[web.AppRunner] = []
        self._stopped = asyncio.Event()

    @property
    def helpdesk(self) -> Helpdesk | None:
        """The helpdesk jobs (SLA reminders, auto-close), when the config has any: tests run
        them with `service.helpdesk.tick(now=...)`."""
        from bridge.helpdesk import Helpdesk

        return next((c for c in self.components if isinstance(c, Helpdesk)), None)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Migrate, open the runtime, start every component, and listen; raises if any fails."""
        from storage.migrate import upgrade_async

        await upgrade_async(self.config.database)
        await self.runtime.open()
        started: list[Component] = []
        try:
            for component in self.components:
                await component.start()
                started.append(component)
            self.port = await self._listen(self.build_app(), self.host, self.port)
            if self.internal_host is not None and self.internal_port is not None:
                self.internal_port = await self._listen(
                    self.build_internal_app(), self.internal_host, self.internal_port
                )
        except BaseException:
            await self._stop_listening()
            for component in reversed(started):
                await self._stop_component(component)
            await self.runtime.close()
            raise
        UP.set(1)
        log.info(
            "started",
            extra={
                "host": self.host,
                "port": self.port,
                "internal": None
                if self.internal_host is None
                else f"{self.internal_host}:{self.internal_port}",
                "summary": self.config.summary(),
            },
        )

    async def stop(self) -> None:
        """Stop listening, stop the components, close the database. Never raises."""
        await self._stop_listening()
        for component in reversed(self.components):
            await self._stop_component(component)
        await self.runtime.stop_worker()  # stopped by its component; a failed stop left it
        await self.runtime.close()
        UP.set(0)
        self._stopped.set()
        log.info("stopped")

    async def run_until_signal(self) -> None:
        """Start, then serve until SIGINT or SIGTERM, then stop cleanly."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig, stop_requested)
        try:
            await self.start()
            # What start-up built (modules, models, routes) lives as long as the process:
            # keep it out of the collector's full passes, which otherwise stall the loop.
            gc.freeze()
            await stop_requested.wait()
        finally:
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    # --- HTTP ------------------------------------------------------------------------------

    def monitoring_access(self) -> MonitoringAccess:
        """Who may read /metrics and /healthz's details on the main listener."""
        http = self.config.http
        if http.internal is not None:
            return MonitoringAccess.nobody()
        if http.metrics_token is not None:
            return MonitoringAccess.bearer(http.metrics_token)
        return MonitoringAccess.this_machine(http.trusted_proxies)

    def build_app(self) -> web.Application:
        """The main listener's application: /healthz, /metrics (unless the internal listener
        serves it) and every component's routes, each with a cap on its request body
        (bridge/web/bodies.py: 1 MB unless the route names one)."""
        app = web.Application(
            middlewares=[count_requests, limit_bodies()], client_max_size=DEFAULT_BODY_LIMIT
        )
        self._add_monitoring(app, self.monitoring_access())
        for component in self.components:
            if isinstance(component, HasRoutes):
                app.router.add_routes(component.routes())
        return app

    def build_internal_app(self) -> web.Application:
        """The internal listener's application (`http.internal`): /healthz with its details
        and /metrics, for whoever reaches it (the admin's monitoring)."""
        app = web.Application(middlewares=[count_requests, limit_bodies()])
        self._add_monitoring(app, MonitoringAccess.for_everyone())
        return app

    def _add_monitoring(self, app: web.Application, access: MonitoringAccess) -> None:
        from storage.db import backend_name

        app.router.add_get(
            "/healthz",
            health_handler(
                database_backend=backend_name(self.config.database),
                probe_database=self._probe_database,
                channel_states=self.channel_states,
                dead_letters=self.dead_letter_counts,
                access=access,
            ),
        )
        if access.serves_metrics:
            metrics = guarded_metrics_handler(access, refresh=self.refresh_metrics)
            app.router.add_get("/metrics", metrics)

    def channel_states(self) -> dict[str, ComponentState]:
        """Each enabled channel's state, from the component that serves it."""
        by_name = {component.name: component for component in self.components}
        states: dict[str, ComponentState] = {}
        for channel in self.config.enabled_channels():
            component = by_name.get(f"channel:{channel}")
            if component is None:
                state = ComponentState("stopped", "no adapter for this channel in this build")
            else:
                state = component.state()
            states[channel] = state
            CHANNEL_UP.labels(channel).set(1 if state.healthy else 0)
        return states

    async def dead_letter_counts(self) -> dict[str, int] | None:
        """Open dead letters by source (also set on /metrics); None when the database fails."""
        from storage.dead_letters import open_counts

        if self.runtime.engine is None:
            return None
        try:
            async with self.runtime.sessions() as session:
                counts = await open_counts(session)
        except Exception:
            log.warning("dead letters could not be counted", exc_info=True)
            return None
        for source in {*self.runtime.dead_letters.replayers, *counts}:
            DEAD_LETTERS.labels(source).set(counts.get(source, 0))
        return counts

    async def refresh_metrics(self) -> None:
        """Before /metrics answers: the gauges read from the database and the leader
        (dead letters, app/metrics.py); a database failure leaves them as they were."""
        from app import metrics

        metrics.refresh_leader(self.runtime.leader.is_leader)
        await self.dead_letter_counts()
        if self.runtime.engine is None:
            return
        try:
            async with self.runtime.sessions() as session:
                await metrics.refresh_destinations(session)
                await metrics.refresh_waiting(session, list(self.config.groups))
        except Exception:
            log.warning("the database gauges could not be read", exc_info=True)

    async def _probe_database(self) -> bool:
        from storage.db import ping

        engine = self.runtime.engine
        ok = engine is not None and await ping(engine)
        DATABASE_UP.set(1 if ok else 0)
        return ok

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _on_signal(sig: signal.Signals, stop_requested: asyncio.Event) -> None:
        log.info("signal received, stopping", extra={"signal": sig.name})
        stop_requested.set()

    @staticmethod
    async def _stop_component(component: Component) -> None:
        try:
            await component.stop()
        except Exception:
            log.exception("component failed to stop cleanly", extra={"component": component.name})

    async def _listen(self, app: web.Application, host: str, port: int) -> int:
        """Serve `app` on host:port; the port it is bound to (port 0: the one chosen)."""
        runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, host, port)
        await site.start()
        return self._bound_port(site) or port

    async def _stop_listening(self) -> None:
        while self._runners:
            runner = self._runners.pop()
            try:
                await runner.cleanup()
            except Exception:
                log.exception("a listener failed to stop cleanly")

    @staticmethod
    def _bound_port(site: web.TCPSite) -> int | None:
        # AbstractServer declares no `sockets`; asyncio's and uvloop's servers both have them.
        sockets = getattr(site._server, "sockets", None)
        if sockets:
            return int(sockets[0].getsockname()[1])
        return None
