"""Deliveries slower than their lease, and deliveries that hang: sent once, never twice.

The fake Telegram sits behind a slow front (slow_front.py) over real HTTP; two workers with
engines of their own share one database, as two processes would.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from sqlmodel import col, select

from botapi.sender import TelegramCalls, make_bot
from bridge.outbox import OutboxWorker, enqueue
from storage import outbox as store
from storage.models import OutboxItem
from tests.bridge.outbox.fake_telegram import SPEED, TOKEN, sent_texts
from tests.bridge.outbox.helpers import open_db, telegram_policy
from tests.bridge.outbox.slow_front import SlowFront, served_slow_telegram

Sessions = Any


def make_worker(sf: Sessions, api_url: str, owner: str, **kw: Any) -> OutboxWorker:
    """A worker sending through the real Bot API client, as the service's does."""
    kw.setdefault("poll_interval", 0.02)  # polling all the time
    kw.setdefault("backoff_base", 0.05)
    return OutboxWorker(
        sf,
        {"telegram": TelegramCalls(make_bot(TOKEN, api_url))},
        telegram_policy(time_scale=SPEED),
        owner_id=owner,
        **kw,
    )


async def close_sender(worker: OutboxWorker) -> None:
    sender = worker.senders["telegram"]
    assert isinstance(sender, TelegramCalls)
    await sender.close()


async def stop(*workers: OutboxWorker) -> None:
    for worker in workers:
        await worker.stop()
        await close_sender(worker)


async def put_reply(sf: Sessions, chat: int, text: str) -> int:
    async with sf() as s:
        row = await enqueue(
            s,
            platform="telegram",
            destination=str(chat),
            lane=f"{chat}:reply",
            kind="call",
            payload={"method": "sendMessage", "params": {"chat_id": chat, "text": text}},
        )
        await s.commit()
        assert row.id is not None
        return row.id


async def rows(sf: Sessions) -> list[OutboxItem]:
    async with sf() as s:
        found = (await s.exec(select(OutboxItem).order_by(col(OutboxItem.id)))).all()
        await s.commit()  # not a rollback: that would expire the rows
        return list(found)


async def settled(sf: Sessions, workers: list[OutboxWorker], count: int, within: float) -> None:
    """Every row done and no worker still holding one (a second call would show by then)."""
    deadline = time.monotonic() + within
    while True:
        async with sf() as s:
            states = await store.count_by_state(s)
            await s.rollback()
        if states == {"done": count} and all(w.in_flight == 0 for w in workers):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled in {within}s: {states}")
        await asyncio.sleep(0.05)


async def test_a_delivery_longer_than_its_lease_is_sent_once_while_another_worker_polls(
    db_url: str,
) -> None:
    # The lease is short to keep the test short, but its margin (L/4) must absorb a heartbeat
    # delayed by a loaded machine (CI): at 2 s a 0.5 s stall cut a call off just as it reached
    # the platform, the one case where a repeat is allowed (README, "What can repeat").
    lease = 4.0
    front = SlowFront(seconds=3 * lease)  # every call takes three leases
    async with served_slow_telegram(front, groups=2) as tg:
        (engine_a, sf_a), (engine_b, sf_b) = await open_db(db_url), await open_db(db_url)
        workers = [
            make_worker(sf_a, tg.api_url, "a", lease_seconds=lease),
            make_worker(sf_b, tg.api_url, "b", lease_seconds=lease),
        ]
        for worker in workers:
            await worker.start()
        for n, chat in enumerate(tg.groups):
            await put_reply(sf_a, chat, f"reply {n}")
        for worker in workers:
            worker.wake()
        await settled(sf_a, workers, count=2, within=40)
        await stop(*workers)
        assert Counter(sent_texts(tg.fake)) == {"reply 0": 1, "reply 1": 1}
        assert front.arrived == 2  # one call per row: nobody took a row over
        assert all(row.attempts == 0 and row.lease_token == 1 for row in await rows(sf_a))
        await engine_a.dispose()
        await engine_b.dispose()


async def test_a_delivery_that_hangs_past_its_deadline_is_cancelled_retried_and_arrives_once(
    db_url: str,
) -> None:
    # The first call hangs far longer than the deadline (the Bot API client's own timeout is
    # 30 s): the worker cuts it at 1 s, the platform never got it, the retry goes through.
    front = SlowFront(seconds=60, calls=1)
    async with served_slow_telegram(front) as tg:
        engine, sf = await open_db(db_url)
        worker = make_worker(sf, tg.api_url, "w", delivery_timeout=1.0)
        await worker.start()
        await put_reply(sf, tg.groups[0], "your order has shipped")
        worker.wake()
        await settled(sf, [worker], count=1, within=10)
        await stop(worker)
        assert sent_texts(tg.fake) == ["your order has shipped"]
        assert (front.arrived, front.dropped) == (2, 1)
        (row,) = await rows(sf)
        assert row.attempts == 1 and row.result is not None
        assert row.last_error is not None and "delivery deadline of 1s" in row.last_error
        await engine.dispose()
