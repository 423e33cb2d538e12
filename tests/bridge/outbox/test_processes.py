"""Several workers on PostgreSQL, and a worker process killed with SIGKILL mid-burst."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter

import pytest

from botapi.sender import TelegramCalls, make_bot
from bridge.outbox import OutboxWorker
from storage import outbox as store
from tests.bridge.outbox.fake_telegram import SPEED, TOKEN, sent_texts, served_telegram
from tests.bridge.outbox.helpers import open_db, telegram_policy, wait_for
from tests.bridge.outbox.test_telegram_outbox import put_texts


@pytest.mark.postgres
async def test_two_workers_share_the_group_limit_and_never_send_a_row_twice(pg_url) -> None:
    engine, sf = await open_db(pg_url)
    # A slower clock than the other tests: a group's posts go about one per chat interval
    # (1.05 s / speed) until its window is used, and the fake's per-chat bucket only forgives
    # one call's worth of jitter (our burst 2 against its 3), which must stay larger than the
    # scheduling jitter of two workers and the fake sharing one busy event loop.
    speed = 10.0
    async with served_telegram(speed=speed) as tg:
        await put_texts(sf, tg.group, lanes=4, per_lane=10)
        workers = [
            OutboxWorker(
                sf,
                {"telegram": TelegramCalls(make_bot(TOKEN, tg.api_url))},
                telegram_policy(time_scale=speed),
                owner_id=f"w{n}",
                concurrency=4,
                poll_interval=0.02,
            )
            for n in range(2)
        ]
        for worker in workers:
            await worker.start()
        await wait_for(lambda: sum(w.stats.sent for w in workers) == 40, within=30)
        for worker in workers:
            await worker.stop()
            await worker.senders["telegram"].close()
        assert all(w.stats.sent > 0 for w in workers), [w.stats for w in workers]
        assert tg.fake.too_many_requests.total == 0
        counts = Counter(sent_texts(tg.fake))
        assert len(counts) == 40 and set(counts.values()) == {1}
        for lane in range(4):
            mine = [t for t in sent_texts(tg.fake) if t.startswith(f"lane {lane} ")]
            assert mine == [f"lane {lane} message {n}" for n in range(10)]
    await engine.dispose()


async def _spawn(db_url: str, api_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.run_worker",
        "--database",
        db_url,
        "--telegram-api",
        api_url,
        "--token",
        TOKEN,
        "--time-scale",
        str(SPEED),
        "--poll-interval",
        "0.05",
        "--lease-seconds",
        "2",
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def _ready(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=15)
    assert b"ready" in line


def sent_pairs(fake) -> list[tuple[str, str]]:
    return [
        (str(c.params["chat_id"]), c.params["text"]) for c in fake.calls("sendMessage", status=200)
    ]


@pytest.mark.crash
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_worker_killed_mid_burst_loses_nothing(backend, request, tmp_path) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    engine, sf = await open_db(url)
    async with served_telegram(groups=3) as tg:
        for group in tg.groups:
            await put_texts(sf, group, lanes=2, per_lane=15)
        total = 90
        first = await _spawn(url, tg.api_url)
        await _ready(first)
        await wait_for(lambda: len(sent_texts(tg.fake)) >= 30, within=20)
        first.kill()  # SIGKILL: no chance to tidy up
        await first.wait()
        assert first.returncode == -signal.SIGKILL
        sent_at_kill = len(sent_texts(tg.fake))
        assert sent_at_kill < total
        second = await _spawn(url, tg.api_url)
        await _ready(second)
        await wait_for(
            lambda: len(set(sent_pairs(tg.fake))) == total,
            within=20,
            info=lambda: len(set(sent_pairs(tg.fake))),
        )
        second.terminate()
        await second.wait()
        texts = sent_pairs(tg.fake)
        repeats = len(texts) - len(set(texts))
        assert repeats <= 3  # at most one call in flight per destination at the kill
        async with sf() as s:
            assert await store.count_by_state(s) == {"done": total}
    await engine.dispose()
