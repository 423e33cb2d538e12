"""Leader election: one process runs the leader-only duties; a standby takes over.

Real PostgreSQL (advisory locks are per server session); SQLite is always the leader.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg
import pytest

from bridge.leader import Leader
from storage.leader_lock import libpq_dsn, lock_key
from storage.migrate import upgrade_async

FAST = {"retry_interval": 0.1, "check_interval": 0.1, "timeout": 2.0}


@pytest.fixture
async def pg_url(pg_url: str) -> str:
    """The test's PostgreSQL database, migrated (the leader keeps its lease in a table)."""
    await upgrade_async(pg_url)
    return pg_url


class Ticker:
    """A duty that counts its starts and marks itself live while it runs."""

    def __init__(self) -> None:
        self.starts = 0
        self.live = False

    async def __call__(self) -> None:
        self.starts += 1
        self.live = True
        try:
            await asyncio.Event().wait()
        finally:
            self.live = False


async def until(check: Callable[[], object], wait: float = 5.0) -> None:
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def test_sqlite_process_is_always_the_leader(sqlite_url) -> None:
    leader = Leader(sqlite_url, **FAST)
    duty = Ticker()
    await leader.add_duty("poll", duty)
    await until(lambda: duty.live)
    assert leader.is_leader and leader.running_duties() == ["poll"]
    await leader.remove_duty("poll")
    assert not duty.live and not leader.is_leader


async def test_exactly_one_of_two_processes_runs_the_duty_and_the_other_takes_over(pg_url) -> None:
    first, second = Leader(pg_url, **FAST), Leader(pg_url, **FAST)
    one, two = Ticker(), Ticker()
    await first.add_duty("poll", one)
    await until(lambda: one.live)
    await second.add_duty("poll", two)
    await asyncio.sleep(0.6)  # several retries of the standby
    assert first.is_leader and not second.is_leader
    assert two.starts == 0 and second.running_duties() == []
    await first.remove_duty("poll")  # the leader stops: the lock is freed
    assert not one.live
    await until(lambda: two.live, wait=3)
    assert second.is_leader and not first.is_leader
    await second.remove_duty("poll")


async def test_a_dropped_lock_connection_stops_the_duty_and_the_standby_leads(pg_url) -> None:
    first, second = Leader(pg_url, **FAST), Leader(pg_url, **FAST)
    one, two = Ticker(), Ticker()
    await first.add_duty("poll", one)
    await until(lambda: one.live)
    await second.add_duty("poll", two)
    assert first.lock is not None
    pid = first.lock.server_pid
    admin = await asyncpg.connect(libpq_dsn(pg_url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await until(lambda: not one.live, wait=3)  # the old leader notices and stops polling
    await until(lambda: two.live or one.live, wait=3)
    assert [one.live, two.live].count(True) == 1  # never both
    await first.remove_duty("poll")
    await second.remove_duty("poll")


async def test_a_lone_leader_that_lost_its_connection_leads_again(pg_url) -> None:
    leader = Leader(pg_url, **FAST)
    duty = Ticker()
    await leader.add_duty("poll", duty)
    await until(lambda: duty.live)
    assert leader.lock is not None
    admin = await asyncpg.connect(libpq_dsn(pg_url))
    try:
        await admin.fetchval("SELECT pg_terminate_backend($1)", leader.lock.server_pid)
    finally:
        await admin.close()
    await until(lambda: duty.starts == 2 and duty.live, wait=3)
    assert leader.terms == 2
    await leader.remove_duty("poll")


async def test_the_lock_is_held_while_leading_and_freed_after(pg_url) -> None:
    leader = Leader(pg_url, **FAST)
    await leader.add_duty("poll", Ticker())
    await until(lambda: leader.is_leader)
    admin = await asyncpg.connect(libpq_dsn(pg_url))
    try:
        key = lock_key("talker-bridge:leader")
        assert not await admin.fetchval("SELECT pg_try_advisory_lock($1)", key)
        await leader.remove_duty("poll")
        assert await admin.fetchval("SELECT pg_try_advisory_lock($1)", key)
    finally:
        await admin.close()


async def test_a_crashing_duty_is_restarted_while_leading(sqlite_url) -> None:
    starts = 0

    async def flaky() -> None:
        nonlocal starts
        starts += 1
        if starts == 1:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    leader = Leader(sqlite_url, **FAST)
    await leader.add_duty("flaky", flaky)
    await until(lambda: starts >= 2)
    assert leader.running_duties() == ["flaky"]
    await leader.remove_duty("flaky")


def test_bad_settings_are_refused(sqlite_url) -> None:
    with pytest.raises(ValueError, match="positive"):
        Leader(sqlite_url, retry_interval=0)
    with pytest.raises(ValueError, match="PostgreSQL"):
        libpq_dsn(sqlite_url)
    assert lock_key("a") == lock_key("a") != lock_key("b")
