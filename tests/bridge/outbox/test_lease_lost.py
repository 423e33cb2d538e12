"""A worker that loses its lease stops its call and records nothing over the next holder's.

Two ways to lose a lease: the database stops answering the worker (a TcpProxy between the
worker and PostgreSQL is frozen: no FIN, no RST, statements just hang), or the process was
paused past its lease and another worker took the rows over meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bridge.outbox import OutboxWorker
from storage import outbox as store
from storage.timeutil import utcnow
from tests.bridge.outbox.fake_telegram import sent_texts
from tests.bridge.outbox.helpers import open_db, wait_for
from tests.bridge.outbox.slow_front import SlowFront, served_slow_telegram
from tests.bridge.outbox.test_slow_delivery import (
    close_sender,
    make_worker,
    put_reply,
    rows,
    settled,
)
from tests.support.tcp_proxy import TcpProxy


async def stop_within(worker: OutboxWorker, seconds: float = 10.0) -> None:
    try:
        await asyncio.wait_for(worker.stop(), seconds)
    finally:
        await close_sender(worker)


async def kill_idle_transactions_after(url: str, after: str) -> None:
    """What a deployment should set: an open transaction of a worker that went silent keeps
    its row locks (and SKIP LOCKED hides those rows from every other worker) only this long."""
    parsed = make_url(url)
    conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(
            f'ALTER DATABASE "{parsed.database}" '
            f"SET idle_in_transaction_session_timeout = '{after}'"
        )
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_a_worker_cut_off_from_postgres_stops_its_call_before_its_lease_expires(
    pg_url: str,
) -> None:
    lease = 2.0
    await kill_idle_transactions_after(pg_url, "500ms")
    target = make_url(pg_url)
    front = SlowFront(seconds=3 * lease)  # every call outlasts the lease
    async with (
        served_slow_telegram(front) as tg,
        TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy,
    ):
        engine_a, sf_a = await open_db(target.set(port=proxy.port).render_as_string(False))
        engine_b, sf_b = await open_db(pg_url)
        a = make_worker(sf_a, tg.api_url, "a", lease_seconds=lease)
        b = make_worker(sf_b, tg.api_url, "b", lease_seconds=lease)
        await a.start()
        await put_reply(sf_b, tg.groups[0], "we refunded your order")
        a.wake()
        await asyncio.wait_for(front.first_arrived.wait(), 10)  # a's call is on the wire
        proxy.freeze()  # a can no longer reach the database: its heartbeats hang
        await b.start()
        await settled(sf_b, [b], count=1, within=30)
        # a cancelled its call before its lease ran out; b sent the row, once.
        assert sent_texts(tg.fake) == ["we refunded your order"]
        assert (front.arrived, front.dropped) == (2, 1)
        (row,) = await rows(sf_b)
        assert row.lease_token == 2 and row.result is not None and row.attempts == 0
        proxy.thaw()
        await stop_within(a)
        await stop_within(b)
        assert (await rows(sf_b))[0].result == row.result  # a recorded nothing afterwards
        await engine_a.dispose()
        await engine_b.dispose()


async def test_a_worker_whose_rows_were_taken_over_stops_its_call_and_records_nothing(
    db_url: str,
) -> None:
    # As if the process had been paused past its lease: another worker took the row over.
    lease = 1.5
    front = SlowFront(seconds=3 * lease)
    async with served_slow_telegram(front) as tg:
        engine, sf = await open_db(db_url)
        worker = make_worker(sf, tg.api_url, "paused", lease_seconds=lease)
        await worker.start()
        await put_reply(sf, tg.groups[0], "see you tomorrow")
        worker.wake()
        await asyncio.wait_for(front.first_arrived.wait(), 10)
        async with sf() as s:  # the other worker, after the lease "expired"
            later = utcnow() + timedelta(seconds=lease + 1)
            taken = await store.lease_heads(
                s, owner="other", now=later, lease_until=later + timedelta(hours=1), limit=1
            )
            await s.commit()
        assert len(taken) == 1
        await wait_for(lambda: front.dropped == 1 and worker.in_flight == 0, within=10)
        await stop_within(worker)
        assert sent_texts(tg.fake) == []  # the paused worker's call never reached the customer
        (row,) = await rows(sf)
        assert (row.state, row.lease_owner, row.lease_token) == ("leased", "other", 2)
        assert row.result is None and row.last_error is None and row.attempts == 0
        await engine.dispose()


@pytest.mark.postgres
async def test_a_worker_cut_off_by_a_database_outage_gives_its_rows_back_as_soon_as_it_answers(
    pg_url: str,
) -> None:
    # The database goes away during a call (every connection reset, new ones refused) for
    # longer than the worker may go unconfirmed: the call is cut off at the local deadline
    # (3/4 of the lease). The rows go back to pending as soon as the database answers again,
    # and are sent then, not after the lease runs out.
    lease = 16.0
    target = make_url(pg_url)
    front = SlowFront(seconds=2 * lease, calls=1)  # only the first call hangs on the wire
    async with (
        served_slow_telegram(front) as tg,
        TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy,
    ):
        engine, sf = await open_db(target.set(port=proxy.port).render_as_string(False))
        worker = make_worker(sf, tg.api_url, "w", lease_seconds=lease)
        await worker.start()
        await put_reply(sf, tg.groups[0], "your parcel is on its way")
        worker.wake()
        await asyncio.wait_for(front.first_arrived.wait(), 10)
        started = asyncio.get_running_loop().time()
        proxy.refuse()
        proxy.cut()
        await wait_for(lambda: front.dropped == 1, within=lease)  # cut off at the deadline
        await asyncio.sleep(1.0)
        proxy.refuse(False)  # the database is back
        await settled(sf, [worker], count=1, within=lease)
        took = asyncio.get_running_loop().time() - started
        assert took < lease - 1, took  # before the lease could have expired
        assert sent_texts(tg.fake) == ["your parcel is on its way"]
        await stop_within(worker)
        await engine.dispose()
