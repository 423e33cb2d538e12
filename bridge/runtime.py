"""What one bridge process shares: the database, the outbox worker, pacing, leadership, seams.

The composition root (app/wiring.py) makes ONE `Runtime` per service and hands it to the desk
and the adapters; nothing is kept in module globals, so two services in one interpreter (the
tests run several) never see each other's state. At wiring time the root registers on it:

- `handlers`: the outbox's completion/failure handlers (bridge/outbox/handlers.py), each under
  a name constant of the code that owns it;
- `senders`: the outbox `Sender` of each platform ("telegram", "vk", "site", ...);
- `outlets`: the core's customer outlet of each channel family (bridge/core/desk.py);
- `dead_letters`: the replayer of each source's dead letters (bridge/dead_letters.py).

Lifecycle (app/service.py): the service migrates the database, then `open()` (one engine, one
session factory), starts the components (`OutboxComponent` starts the one worker), and in
reverse stops them and `close()`s. `transaction()` commits and then wakes the worker.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bridge.core.desk import Outlets
from bridge.dead_letters import DeadLetters
from bridge.leader import Leader
from bridge.outbox import HandlerRegistry, OutboxWorker, PacingPolicy, Sender
from bridge.outbox.worker import DELIVERY_TIMEOUT

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.outbox.alarm import AlarmListener

#: How often the worker looks for due rows when nobody woke it.
POLL_INTERVAL = 0.2

#: Floors of the leader's self-fence bound and of the takeover margin (bridge/leader.py).
MIN_FENCE_AFTER = 2.0
MIN_TAKEOVER_MARGIN = 1.0


class Runtime:
    """One process's engine, outbox (worker, pacing, handlers, senders), outlets and leader."""

    def __init__(
        self,
        database: str,
        *,
        policy: PacingPolicy | None = None,
        time_scale: float = 1.0,
        backoff_max: float = 300.0,
        alarm_after_seconds: float = 300.0,
        delivery_timeout: float = DELIVERY_TIMEOUT,
        alarm: AlarmListener | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.database = database
        self.time_scale = time_scale
        self.policy = policy if policy is not None else PacingPolicy(time_scale=time_scale)
        self.backoff_max = backoff_max
        self.alarm_after_seconds = alarm_after_seconds
        #: The deadline of one delivery, in real seconds (not compressed by time_scale).
        self.delivery_timeout = delivery_timeout
        #: Who tells the operators when a destination is stuck (the desk sets it at wiring).
        self.alarm = alarm
        self.handlers = HandlerRegistry()
        self.senders: dict[str, Sender] = {}
        self.outlets = Outlets()
        #: Updates that failed for good, and who replays each source's (bridge/dead_letters.py).
        self.dead_letters = DeadLetters(self.transaction)
        # Leader-only duties (the getUpdates poller, the dashboards); bridge/leader.py.
        interval = 2.0 / max(time_scale, 1.0)
        # The bounds shrink with time_scale, but never below what a busy event loop (tests
        # and benchmarks run many services in one) can keep: F = 6 s and T = 10 s at scale 1.
        fence = max(3 * interval, MIN_FENCE_AFTER)
        self.leader = Leader(
            database,
            retry_interval=interval,
            check_interval=interval,
            fence_after=fence,
            takeover_after=fence + max(2 * interval, MIN_TAKEOVER_MARGIN),
        )
        self.worker: OutboxWorker | None = None
        self.engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    # ---- database ------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the engine (the database is migrated already: app/service.py does it first)."""
        from storage.db import create_engine, session_factory

        if self.engine is not None:
            raise RuntimeError("runtime already open")
        self.engine = create_engine(self.database)
        self._sessions = session_factory(self.engine)

    async def close(self) -> None:
        """Dispose of the engine; the worker must be stopped already."""
        if self.worker is not None:
            raise RuntimeError("stop the outbox worker before closing the runtime")
        if self.engine is not None:
            await self.engine.dispose()
        self.engine = None
        self._sessions = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory of the open engine."""
        if self._sessions is None:
            raise RuntimeError("the runtime is not open")
        return self._sessions

    def session(self) -> AsyncSession:
        """A new session (use as `async with`); `runtime.session` is a stable factory that
        can be handed out before the runtime opens (the site adapter takes it)."""
        return self.sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, then the worker is woken."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
        self.wake()

    # ---- outbox worker -------------------------------------------------------------------

    def wake(self) -> None:
        """Tell the worker (if it runs) to look for due rows now."""
        if self.worker is not None:
            self.worker.wake()

    async def start_worker(
        self,
        *,
        concurrency: int = 16,
        owner_id: str | None = None,
        lease_seconds: float = 60.0,
        poll_interval: float = POLL_INTERVAL,
    ) -> OutboxWorker:
        """Start the process's one outbox worker over the registered senders and handlers."""
        if self.worker is not None:
            raise RuntimeError("the outbox worker is already running")
        worker = OutboxWorker(
            self.sessions,
            self.senders,
            self.policy,
            owner_id=owner_id or f"{socket.gethostname()}:{os.getpid()}:{id(self)}",
            concurrency=concurrency,
            handlers=self.handlers,
            lease_seconds=lease_seconds,
            delivery_timeout=self.delivery_timeout,
            poll_interval=poll_interval,
            # Waiting is compressed like the pacing (tests and benchmarks run at time_scale K).
            backoff_base=1.0 / self.time_scale,
            backoff_max=self.backoff_max / self.time_scale,
            alarm_after_seconds=self.alarm_after_seconds / self.time_scale,
            alarm=self.alarm,
        )
        await worker.start()
        self.worker = worker
        return worker

    async def stop_worker(self, *, drain: bool = True) -> None:
        """Stop the worker (`drain`: calls on the wire finish and are recorded)."""
        worker, self.worker = self.worker, None
        if worker is not None:
            await worker.stop(drain=drain)
