"""The retention jobs run once across processes: only the leader's scheduler runs them.

Two "processes" (two Leaders, two Retentions) campaign on one real PostgreSQL database; the
outbox period is one second, so the job runs every half second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bridge.leader import Leader
from bridge.retention import OUTBOX, Retention
from config import RetentionConfig
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import OutboxItem, OutboxState


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[object]:
    await upgrade_async(pg_url)
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()


async def until(check: Callable[[], object], wait: float = 10.0) -> None:
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def add_finished_rows(sessions, count: int) -> None:
    done = datetime.now(UTC) - timedelta(minutes=5)
    async with sessions() as session, session.begin():
        session.add_all(
            OutboxItem(
                platform="telegram",
                destination="chat:1",
                lane=f"lane:{i}",
                kind="send",
                payload={},
                state=OutboxState.DONE.value,
                done_at=done,
            )
            for i in range(count)
        )


async def outbox_rows(sessions) -> int:
    async with sessions() as session:
        return len((await session.exec(select(OutboxItem))).all())


def process(pg_url: str, sessions) -> Retention:
    config = RetentionConfig(outbox=timedelta(seconds=1))
    return Retention(
        config,
        sessions=sessions,
        leader=Leader(pg_url, retry_interval=0.1, check_interval=0.1, timeout=2.0),
    )


async def test_only_the_leaders_scheduler_runs_the_jobs_and_a_standby_takes_over(
    pg_url, sessions
) -> None:
    first, second = process(pg_url, sessions), process(pg_url, sessions)
    await first.start()
    await until(lambda: first.leader.is_leader)
    await second.start()
    await add_finished_rows(sessions, 5)

    await until(lambda: first.deleted[OUTBOX] == 5)
    await until(lambda: first.runs[OUTBOX] >= 4)  # it keeps running, every half second
    assert await outbox_rows(sessions) == 0
    assert second.runs[OUTBOX] == 0 and not second.leader.is_leader
    assert second.state().detail == "standby: the leader process runs the jobs"

    await first.stop()  # the leader goes: its scheduler stops, the standby's starts
    stopped_at = first.runs[OUTBOX]
    await until(lambda: second.leader.is_leader)
    await add_finished_rows(sessions, 3)
    await until(lambda: second.deleted[OUTBOX] == 3)
    await asyncio.sleep(1.0)
    assert first.runs[OUTBOX] == stopped_at
    assert first.deleted[OUTBOX] == 5
    assert await outbox_rows(sessions) == 0
    await second.stop()
