"""Retention jobs on a real database: old finished work goes, newer and unfinished work stays.

Both backends (`db_url`); batches smaller than the backlog, so the jobs loop; /metrics counts
what went.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func
from sqlmodel import col, select

from bridge.leader import Leader
from bridge.retention import JOBS, OUTBOX, PROCESSED_EVENTS, Retention, interval_of
from config import RetentionConfig
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import OutboxItem, OutboxState, ProcessedEvent
from storage.retention import delete_finished_outbox
from storage.state import mark_event_processed

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[object]:
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


def outbox_row(label: str, state: OutboxState, done_ago: timedelta | None) -> OutboxItem:
    created = NOW - (done_ago or timedelta()) - timedelta(minutes=1)
    return OutboxItem(
        platform="telegram",
        destination="chat:1",
        lane=f"lane:{label}",
        kind="send",
        payload={"label": label, "files": {"photo": {"data_b64": "A" * 2000}}},
        state=state.value,
        created_at=created,
        not_before=created,
        done_at=None if done_ago is None else NOW - done_ago,
    )


async def outbox_labels(sessions) -> set[str]:
    async with sessions() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    return {row.payload["label"] for row in rows}


def deleted_metric(job: str) -> float:
    labels = {"job": job}
    return REGISTRY.get_sample_value("talker_bridge_retention_deleted_total", labels) or 0.0


def retention(sessions, db_url: str, *, batch: int = 3, **periods: object) -> Retention:
    return Retention(
        RetentionConfig(**periods), sessions=sessions, leader=Leader(db_url), batch=batch
    )


async def test_finished_outbox_rows_older_than_the_period_are_deleted(sessions, db_url) -> None:
    old = 8 * DAY
    rows = [outbox_row(f"old-done-{i}", OutboxState.DONE, old) for i in range(7)]
    rows += [
        outbox_row("old-failed", OutboxState.FAILED, old),
        outbox_row("old-superseded", OutboxState.SUPERSEDED, old),
        outbox_row("recent-done", OutboxState.DONE, 6 * DAY),
        outbox_row("just-failed", OutboxState.FAILED, timedelta(minutes=5)),
        outbox_row("old-pending", OutboxState.PENDING, None),
        outbox_row("old-leased", OutboxState.LEASED, None),
    ]
    async with sessions() as session, session.begin():
        session.add_all(rows)
    before = deleted_metric(OUTBOX)
    jobs = retention(sessions, db_url, outbox="7d")

    assert await jobs.run(OUTBOX) == 9  # three batches of 3, then an empty one

    assert await outbox_labels(sessions) == {
        "recent-done",
        "just-failed",
        "old-pending",
        "old-leased",
    }
    assert deleted_metric(OUTBOX) - before == 9
    assert jobs.runs[OUTBOX] == 1 and jobs.deleted[OUTBOX] == 9
    sample = REGISTRY.get_sample_value(
        "talker_bridge_retention_last_run_timestamp_seconds", {"job": OUTBOX}
    )
    assert sample is not None and sample >= NOW.timestamp()
    assert await jobs.run(OUTBOX) == 0  # idempotent: nothing left to delete


async def test_one_outbox_statement_deletes_at_most_its_batch(sessions) -> None:
    async with sessions() as session, session.begin():
        session.add_all([outbox_row(f"r{i}", OutboxState.DONE, 10 * DAY) for i in range(5)])
    async with sessions() as session, session.begin():
        assert await delete_finished_outbox(session, NOW - DAY, 2) == 2
    async with sessions() as session:
        left = (await session.exec(select(func.count(col(OutboxItem.id))))).one()
    assert left == 3


async def test_processed_event_ids_older_than_the_period_are_deleted(sessions, db_url) -> None:
    async with sessions() as session, session.begin():
        for i in range(5):
            await mark_event_processed(session, "vk", f"old-{i}")
            await mark_event_processed(session, "telegram", i)
        await mark_event_processed(session, "vk", "recent")
        await mark_event_processed(session, "telegram", 99)
    async with sessions() as session, session.begin():
        for row in (await session.exec(select(ProcessedEvent))).all():
            if row.event_id not in ("recent", "99"):
                row.created_at = NOW - 15 * DAY
            else:
                row.created_at = NOW - 5 * DAY  # within the 6-day dedupe scope
            session.add(row)
    before = deleted_metric(PROCESSED_EVENTS)
    jobs = retention(sessions, db_url, processed_events="14d")

    assert await jobs.run(PROCESSED_EVENTS) == 10

    async with sessions() as session:
        left = {(r.source, r.event_id) for r in (await session.exec(select(ProcessedEvent))).all()}
    assert left == {("vk", "recent"), ("telegram", "99")}
    assert deleted_metric(PROCESSED_EVENTS) - before == 10
    # A deleted id is new again; a kept one is still a duplicate.
    async with sessions() as session, session.begin():
        assert await mark_event_processed(session, "vk", "old-0") is True
        assert await mark_event_processed(session, "vk", "recent") is False


def test_defaults_and_how_often_each_job_runs() -> None:
    config = RetentionConfig()
    assert [getattr(config, job) for job in JOBS] == [
        timedelta(days=7),
        timedelta(days=14),
        timedelta(minutes=30),
        timedelta(days=90),
    ]
    # Longer than the 7 days after which a Telegram update_id counts as restarted.
    assert config.processed_events > timedelta(days=7)
    assert interval_of(timedelta(minutes=30)) == timedelta(minutes=15)
    assert interval_of(timedelta(days=7)) == timedelta(hours=1)


async def test_two_runs_at_once_delete_each_row_once(sessions, db_url) -> None:
    """A leader change may briefly overlap two leaders: their jobs share the work safely."""
    async with sessions() as session, session.begin():
        session.add_all([outbox_row(f"r{i}", OutboxState.DONE, 8 * DAY) for i in range(300)])
    one, two = (retention(sessions, db_url, batch=20) for _ in range(2))

    deleted = await asyncio.gather(one.run(OUTBOX), two.run(OUTBOX))

    assert sum(deleted) == 300
    assert await outbox_labels(sessions) == set()
