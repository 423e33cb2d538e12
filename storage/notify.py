"""PostgreSQL LISTEN/NOTIFY: a small message to every process that shares the database.

`notify(session, channel, payload)` queues a notification in the session's transaction: the
server delivers it when that transaction commits (never for a rollback), to every session that
LISTENs on `channel`, in commit order. Payloads are text under `MAX_PAYLOAD` bytes: send ids
and let the receiver read the rows, not the rows themselves.

`Listener` is one process's dedicated asyncpg connection LISTENing on one channel. It connects
in the background, reconnects with exponential backoff when the connection drops or stops
answering a health query, and calls `on_listening()` every time it listens again: while it
was away, notifications were lost (the server keeps none for a session that is not there),
so the receiver then catches up from the database. SQLite serves one process and has no
LISTEN/NOTIFY: callers keep their in-process path there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlmodel import func, select

from storage.leader_lock import KEEPALIVE_SETTINGS, libpq_dsn

if TYPE_CHECKING:
    import asyncpg
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

#: PostgreSQL refuses payloads of 8000 bytes and more.
MAX_PAYLOAD = 7999


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    """Queue `payload` on `channel`; it is delivered when the session's transaction commits.

    Raises ValueError for a payload PostgreSQL would refuse (too long).
    """
    size = len(payload.encode("utf-8"))
    if size > MAX_PAYLOAD:
        raise ValueError(f"a notification payload is at most {MAX_PAYLOAD} bytes, not {size}")
    statement = select(func.pg_notify(channel, payload))
    await session.exec(statement)


class Listener:
    """LISTEN on `channel` over a dedicated connection, for as long as it runs.

    `on_notify(payload)` is called for each notification (on the event loop; it must not
    block). `on_listening()` is awaited after each (re)connection, once LISTEN is in place.
    """

    def __init__(
        self,
        url: str,
        channel: str,
        on_notify: Callable[[str], None],
        on_listening: Callable[[], Awaitable[None]] | None = None,
        *,
        check_interval: float = 5.0,
        timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.dsn = libpq_dsn(url)
        self.channel = channel
        self.on_notify = on_notify
        self.on_listening = on_listening
        self.check_interval = check_interval
        self.timeout = timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._listening = asyncio.Event()
        #: How many times LISTEN was (re)established (for tests and the state line).
        self.connects = 0
        self.last_error: str | None = None

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def wait_listening(self) -> None:
        """Wait until LISTEN is in place (wrap it in `asyncio.timeout`)."""
        await self._listening.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"listen:{self.channel}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        backoff = self.backoff_initial
        while True:
            try:
                await self._listen_until_lost()
                backoff = self.backoff_initial  # it was up: start the backoff over
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = str(exc) or type(exc).__name__
                log.warning(
                    "LISTEN %s lost: %s; reconnecting in %.1f s", self.channel, exc, backoff
                )
            finally:
                self._listening.clear()
                self._drop()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.backoff_max)

    async def _listen_until_lost(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            self.dsn, timeout=self.timeout, server_settings=KEEPALIVE_SETTINGS
        )
        self._conn = conn
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.channel, self._deliver)
        self.connects += 1
        self.last_error = None
        self._listening.set()
        if self.on_listening is not None:
            await self.on_listening()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_interval):
                    await lost.wait()
            if not lost.is_set():  # a silent cut leaves the socket open: ask the server
                await conn.fetchval("SELECT 1", timeout=self.timeout)
        raise ConnectionError("the connection was closed")

    def _deliver(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.on_notify(payload)
        except Exception:
            log.exception("a notification on %s could not be handled", self.channel)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()
