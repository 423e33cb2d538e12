"""The outbox against the fake Telegram over real HTTP: pace, 429, faults, merging."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from botapi.sender import TelegramCalls, make_bot
from bridge.outbox import OutboxWorker, enqueue
from storage import outbox as store
from tests.bridge.outbox.fake_telegram import SPEED, TOKEN, sent_texts, served_telegram
from tests.bridge.outbox.helpers import open_db, telegram_policy, wait_for


@pytest.fixture
async def factory(sqlite_url: str):
    engine, sf = await open_db(sqlite_url)
    yield sf
    await engine.dispose()


async def put_texts(sf, chat: int, lanes: int, per_lane: int, *, merge: bool = False) -> None:
    async with sf() as s:
        for n in range(per_lane):
            for lane in range(lanes):
                body = f"lane {lane} message {n}"
                payload: dict[str, Any] = {
                    "method": "sendMessage",
                    "params": {"chat_id": chat, "text": body},
                }
                if merge:
                    payload["part"] = {"author": f"Customer {lane}", "at": "14:02", "html": body}
                await enqueue(
                    s,
                    platform="telegram",
                    destination=str(chat),
                    lane=f"{chat}:topic:{lane}",
                    kind="text" if merge else "call",
                    coalesce_key=f"topic:{lane}" if merge else None,
                    payload=payload,
                )
        await s.commit()


def worker_for(sf, api_url: str, *, scale: float = SPEED, **kw) -> OutboxWorker:
    sender = TelegramCalls(make_bot(TOKEN, api_url))
    kw.setdefault("poll_interval", 0.05)
    kw.setdefault("backoff_base", 0.05)
    return OutboxWorker(
        sf, {"telegram": sender}, telegram_policy(time_scale=scale), owner_id="w1", **kw
    )


async def finish(worker: OutboxWorker) -> None:
    await worker.stop()
    await worker.senders["telegram"].close()


async def test_burst_into_one_group_keeps_the_limit_with_no_429(factory) -> None:
    # Speed 20, not 50: the window's headroom (3 s in 63) must exceed the event loop's jitter.
    async with served_telegram(speed=20.0) as tg:
        await put_texts(factory, tg.group, lanes=4, per_lane=12)
        worker = worker_for(factory, tg.api_url, scale=20.0, concurrency=8)
        await worker.start()
        await wait_for(lambda: worker.stats.sent == 48, within=20)
        await finish(worker)
        assert tg.fake.too_many_requests.total == 0
        texts = sent_texts(tg.fake)
        assert len(texts) == 48
        for lane in range(4):
            mine = [t for t in texts if t.startswith(f"lane {lane} ")]
            assert mine == [f"lane {lane} message {n}" for n in range(12)]


async def test_pacing_too_fast_would_be_refused_by_the_fake(factory) -> None:
    # The control for the test above: 20x the allowed rate makes the fake answer 429. Four
    # lanes sent at once: one lane's calls go one after another, and on a loaded machine
    # (round trips over 60 ms) they stayed under the fake's 20 in 1.2 s without any pacing.
    async with served_telegram() as tg:
        await put_texts(factory, tg.group, lanes=4, per_lane=15)
        worker = worker_for(factory, tg.api_url, scale=SPEED * 20, concurrency=8)
        await worker.start()
        await wait_for(lambda: tg.fake.too_many_requests.total > 0, within=10)
        await finish(worker)
        assert worker.stats.rate_limited >= 1


async def test_retry_after_from_telegram_is_honoured(factory) -> None:
    async with served_telegram() as tg:
        tg.fake.throttle_next(1, retry_after=1, method="sendMessage")
        await put_texts(factory, tg.group, lanes=1, per_lane=1)
        worker = worker_for(factory, tg.api_url)
        await worker.start()
        await wait_for(lambda: worker.stats.sent == 1, within=10)
        await finish(worker)
        refused = tg.fake.calls("sendMessage", status=429)
        ok = tg.fake.calls("sendMessage", status=200)
        assert len(refused) == 1 and len(ok) == 1
        # fake clock runs SPEED times faster: convert its gap back to real seconds
        assert (ok[0].time - refused[0].time) / SPEED >= 1.0


async def test_server_errors_are_retried_until_delivered(factory) -> None:
    async with served_telegram() as tg:
        tg.fake.fail_next(3, status=500, method="sendMessage")
        await put_texts(factory, tg.group, lanes=1, per_lane=2)
        worker = worker_for(factory, tg.api_url)
        await worker.start()
        await wait_for(lambda: worker.stats.sent == 2, within=10)
        await finish(worker)
        assert sent_texts(tg.fake) == ["lane 0 message 0", "lane 0 message 1"]
        assert len(tg.fake.calls("sendMessage", status=500)) == 3


async def test_blocked_recipient_is_failed_with_telegrams_reason(factory) -> None:
    async with served_telegram() as tg:
        tg.fake.fail_next(
            1,
            status=403,
            method="sendMessage",
            description="Forbidden: bot was blocked by the user",
        )
        await put_texts(factory, tg.group, lanes=1, per_lane=2)
        worker = worker_for(factory, tg.api_url)
        await worker.start()
        await wait_for(lambda: worker.stats.sent == 1 and worker.stats.failed == 1, within=10)
        await finish(worker)
        from sqlmodel import select

        from storage.models import OutboxItem

        async with factory() as s:
            first = (await s.exec(select(OutboxItem).order_by(OutboxItem.id))).first()
        assert first.state == "failed"
        assert "blocked by the user" in first.last_error


async def test_held_back_texts_merge_within_4096_and_all_arrive_in_order(factory) -> None:
    async with served_telegram() as tg:
        # Real-time pace against a fake at real speed: 3 topics x 40 messages must merge.
        worker = worker_for(factory, tg.api_url, scale=SPEED)
        await put_texts(factory, tg.group, lanes=3, per_lane=40, merge=True)
        await worker.start()
        await wait_for(lambda: worker.stats.sent == 120, within=20)
        await finish(worker)
        assert tg.fake.too_many_requests.total == 0
        texts = sent_texts(tg.fake)
        assert len(texts) < 120  # merged
        assert all(len(t) <= 4096 for t in texts)
        for lane in range(3):
            joined = "\n".join(t for t in texts if f"lane {lane} " in t)
            positions = [
                joined.index(
                    f"lane {lane} message {n}\n" if n < 39 else f"lane {lane} message {n}"
                )
                for n in range(40)
            ]
            assert positions == sorted(positions)
        async with factory() as s:
            assert await store.count_by_state(s) == {"done": 120}


async def test_concurrent_enqueues_and_wake_give_low_latency(factory) -> None:
    async with served_telegram() as tg:
        worker = worker_for(factory, tg.api_url, poll_interval=5.0)
        await worker.start()
        await asyncio.sleep(0.1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await put_texts(factory, tg.group, lanes=1, per_lane=1)
        worker.wake()
        await wait_for(lambda: worker.stats.sent == 1, within=5)
        latency = loop.time() - started
        await finish(worker)
        assert latency < 1.0


async def test_quiet_group_shows_a_short_burst_at_once(factory) -> None:
    # Real time on both sides: Telegram's own figures, no scaling.
    async with served_telegram(speed=1.0) as tg:
        worker = worker_for(factory, tg.api_url, scale=1.0, poll_interval=5.0)
        await worker.start()
        await asyncio.sleep(0.1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await put_texts(factory, tg.group, lanes=3, per_lane=1)
        worker.wake()
        await wait_for(lambda: worker.stats.sent == 3, within=5)
        took = loop.time() - started
        await finish(worker)
        times = [c.time for c in tg.fake.calls("sendMessage", status=200)]
        assert tg.fake.too_many_requests.total == 0
        assert times[1] - times[0] < 0.3  # two at once
        assert took < 1.5  # the third about a second later, not 6 s as at one per 3.15 s


async def test_long_burst_never_has_more_than_twenty_in_a_minute_and_uses_the_budget(
    factory,
) -> None:
    # Speed 10: the window's headroom (3 s in 63, so 0.3 s here) must exceed the jitter of
    # one busy event loop that runs the worker, SQLite and the fake; the window is used to
    # the full while posts wait, so a post that starts late is a post too many.
    async with served_telegram(speed=10.0) as tg:
        await put_texts(factory, tg.group, lanes=4, per_lane=15)
        worker = worker_for(factory, tg.api_url, scale=10.0, concurrency=8)
        await worker.start()
        await wait_for(lambda: worker.stats.sent == 60, within=40)
        await finish(worker)
        assert tg.fake.too_many_requests.total == 0
        times = sorted(c.time for c in tg.fake.calls("sendMessage", status=200))  # fake seconds
        for i, start in enumerate(times):
            assert sum(1 for t in times[i:] if t < start + 60.0) <= 20
        # While posts wait, the group gets at least 90% of its 20 a minute.
        assert sum(1 for t in times if t < times[0] + 120.0) >= 0.9 * 40
