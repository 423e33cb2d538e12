"""A leader cut off by a silent network fault stops its duties; a standby then takes over.

Leader L1 reaches PostgreSQL through an in-test TCP proxy, standby L2 directly. Freezing the
proxy holds every byte while both sockets stay open: L1 cannot confirm its lock, and the server
never notices (the proxy still ACKs its keepalives), so it keeps L1's session and the advisory
lock. L1 must stop its duties within the self-fence bound F; L2 must start its own only after
that, and within the takeover bound T (it ends L1's stale session itself). Before the fix L1
stopped when a ping timed out, but L2 never got the lock while the server kept the session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bridge.leader import Leader, current_term
from storage.leader_lock import KEEPALIVE_SETTINGS, AdvisoryLock, libpq_dsn
from storage.migrate import upgrade_async
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

CHECK, RETRY = 0.2, 0.2
FENCE, TAKEOVER = 1.0, 2.0
SLACK = 0.5  # scheduling on a loaded machine


class Recorder:
    """A duty that records when it starts and stops, and the term it ran under."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.stopped: list[float] = []
        self.terms: list[int | None] = []

    @property
    def live(self) -> bool:
        return len(self.started) > len(self.stopped)

    async def __call__(self) -> None:
        self.started.append(time.monotonic())
        self.terms.append(current_term())
        try:
            await asyncio.Event().wait()
        finally:
            self.stopped.append(time.monotonic())


async def until(check: Callable[[], object], wait: float) -> None:
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def through(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def leader(url: str) -> Leader:
    return Leader(
        url,
        retry_interval=RETRY,
        check_interval=CHECK,
        timeout=2.0,
        fence_after=FENCE,
        takeover_after=TAKEOVER,
    )


async def test_a_frozen_leader_fences_itself_and_the_standby_takes_over_after_it(pg_url) -> None:
    await upgrade_async(pg_url)
    pg = make_url(pg_url)
    async with TcpProxy(pg.host or "127.0.0.1", pg.port or 5432) as proxy:
        first, second = leader(through(pg_url, proxy.port)), leader(pg_url)
        one, two = Recorder(), Recorder()
        try:
            await first.add_duty("poll", one)
            await until(lambda: one.live, wait=5)
            await second.add_duty("poll", two)
            await asyncio.sleep(5 * RETRY)
            assert not two.started and second.term is None
            first_term = first.term
            assert one.terms == [first_term] and first.still_leading(first_term)

            proxy.freeze()
            frozen_at = time.monotonic()
            await until(lambda: two.live, wait=TAKEOVER + 5)

            # L1 stopped within F of the freeze (it had confirmed at most C before it) ...
            assert len(one.stopped) == 1
            assert one.stopped[0] - frozen_at <= FENCE + SLACK
            assert not first.is_leader and not first.still_leading(first_term)
            # ... and L2 started only after that, by the takeover bound, with the next term.
            assert two.started[0] > one.stopped[0]
            assert two.started[0] - frozen_at >= TAKEOVER - CHECK
            assert two.started[0] - frozen_at <= TAKEOVER + RETRY + SLACK + 2.0
            assert second.term is not None and first_term is not None
            assert second.term > first_term and two.terms == [second.term]

            # The network comes back: whatever L1 had in flight cannot make it lead again.
            proxy.thaw()
            await asyncio.sleep(10 * CHECK)
            assert not one.live and two.live and second.still_leading(second.term)
        finally:
            proxy.thaw()
            await first.remove_duty("poll")
            await second.remove_duty("poll")


async def test_a_standby_that_gets_the_lock_early_still_waits_out_the_old_lease(pg_url) -> None:
    """A real cut that the server notices (keepalives) frees the lock at once; the old leader,
    behind the frozen network, still runs its duties until it fences: the standby holds the lock
    but starts nothing until the lease is T old."""
    await upgrade_async(pg_url)
    pg = make_url(pg_url)
    async with TcpProxy(pg.host or "127.0.0.1", pg.port or 5432) as proxy:
        first, second = leader(through(pg_url, proxy.port)), leader(pg_url)
        one, two = Recorder(), Recorder()
        try:
            await first.add_duty("poll", one)
            await until(lambda: one.live, wait=5)
            await second.add_duty("poll", two)
            assert first.lock is not None and first.lock.server_pid is not None
            pid = first.lock.server_pid
            proxy.freeze()
            frozen_at = time.monotonic()
            admin = await asyncpg.connect(libpq_dsn(pg_url))
            try:  # the server drops the dead client's session: the lock is free now
                assert await admin.fetchval("SELECT pg_terminate_backend($1, 2000)", pid)
            finally:
                await admin.close()
            await until(lambda: second.lock is not None and second.lock.held, wait=5)
            assert one.live and not two.started  # the lock alone does not make a leader
            await until(lambda: two.live, wait=TAKEOVER + 5)
            assert one.stopped and two.started[0] > one.stopped[0]
            assert two.started[0] - frozen_at >= TAKEOVER - CHECK
        finally:
            proxy.thaw()
            await first.remove_duty("poll")
            await second.remove_duty("poll")


async def test_the_lock_connection_asks_the_server_to_drop_a_dead_client_quickly(pg_url) -> None:
    lock = AdvisoryLock(pg_url, "keepalive-check")
    try:
        assert await lock.try_acquire()
        own = lock._conn  # the session's own settings, which the server applies to its socket
        assert own is not None
        rows = await own.fetch(
            "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
            list(KEEPALIVE_SETTINGS),
        )
        assert {row["name"]: row["setting"] for row in rows} == KEEPALIVE_SETTINGS
    finally:
        await lock.close()
