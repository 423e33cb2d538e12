"""Retention jobs on a real database: old finished work goes, newer and unfinished work stays.

Both backends (`db_url`); batches smaller than the backlog, so the jobs loop; /metrics counts
what went.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, update
from sqlmodel import col, select

from bridge.core.commands import history
from bridge.leader import Leader
from bridge.retention import (
    CLOSED_CONVERSATIONS,
    CONVERSATIONS_PER_BATCH,
    JOBS,
    OUTBOX,
    PROCESSED_EVENTS,
    Retention,
    interval_of,
)
from config import RetentionConfig
from storage.conversations import close_conversation, find_or_open_conversation
from storage.customers import upsert_customer
from storage.messages import store_inbound_message, store_note, store_operator_reply
from storage.models import Conversation, Message, OutboxItem, OutboxState, ProcessedEvent
from storage.retention import delete_finished_outbox
from storage.state import mark_event_processed

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


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
        None,  # closed conversations are kept unless the admin sets a period
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


async def conversation_with_messages(
    sessions, user: str, *, closed_ago: timedelta | None, comment: str | None = "slow"
) -> int:
    """A customer's conversation with a question, an answer with a file, a note and a rated
    close `closed_ago` back (None: still open); an outbox row of each kind of state."""
    async with sessions() as session, session.begin():
        customer = await upsert_customer(session, "vk", user, user, name=f"Customer {user}")
        conversation, _ = await find_or_open_conversation(session, customer, "support")
        number = conversation.id
        assert number is not None
        await store_inbound_message(
            session, conversation, channel="vk", external_id=f"{user}-q", author="C", text="Q?"
        )
        photo = {"kind": "photo", "file_ref": "AgACAgIAAxk-photo"}
        await store_operator_reply(
            session, number, channel="desk", author="Anna", text="A.", attachments=[photo]
        )
        await store_note(session, number, channel="desk", author="Anna", text="internal")
        for state in (OutboxState.DONE, OutboxState.PENDING, OutboxState.LEASED):
            row = outbox_row(
                f"{user}-{state.value}", state, DAY if state is OutboxState.DONE else None
            )
            row.conversation_id = number
            session.add(row)
        if closed_ago is not None:
            assert await close_conversation(session, number)
            await session.exec(
                update(Conversation)
                .where(col(Conversation.id) == number)
                .values(closed_at=NOW - closed_ago, rating=2, rating_comment=comment)
            )
    return number


async def messages_of(sessions, number: int) -> int:
    async with sessions() as session:
        counted = await session.exec(
            select(func.count()).where(col(Message.conversation_id) == number)
        )
        return int(counted.one())


async def test_closed_conversations_lose_their_content_after_the_period(sessions, db_url) -> None:
    old = await conversation_with_messages(sessions, "old", closed_ago=31 * DAY)
    recent = await conversation_with_messages(sessions, "recent", closed_ago=29 * DAY)
    still_open = await conversation_with_messages(sessions, "open", closed_ago=None)
    jobs = retention(sessions, db_url, closed_conversations="30d")
    before = deleted_metric(CLOSED_CONVERSATIONS)

    assert await jobs.run(CLOSED_CONVERSATIONS) == 3  # question, answer, note

    assert await messages_of(sessions, old) == 0
    assert await messages_of(sessions, recent) == 3
    assert await messages_of(sessions, still_open) == 3
    async with sessions() as session:
        kept = await session.get(Conversation, old)
        assert kept is not None  # the conversation stays for the counters and /stats
        assert (kept.state, kept.rating, kept.rating_comment) == ("closed", 2, None)
        recent_row = await session.get(Conversation, recent)
        assert recent_row is not None and recent_row.rating_comment == "slow"
        deleted = await history(session, kept, language="en")
    assert "were deleted" in deleted.html
    # The old conversation's queued work goes too, except the row being sent right now.
    assert {label for label in await outbox_labels(sessions) if label.startswith("old-")} == {
        "old-leased"
    }
    assert (
        len([label for label in await outbox_labels(sessions) if label.startswith("recent-")]) == 3
    )
    assert deleted_metric(CLOSED_CONVERSATIONS) - before == 3
    assert await jobs.run(CLOSED_CONVERSATIONS) == 0


async def test_closed_conversations_are_kept_unless_a_period_is_set(sessions, db_url) -> None:
    old = await conversation_with_messages(sessions, "ancient", closed_ago=3650 * DAY)
    jobs = retention(sessions, db_url)

    assert CLOSED_CONVERSATIONS not in jobs.jobs()
    assert CLOSED_CONVERSATIONS not in {every.id for every in jobs.schedule()}
    with pytest.raises(ValueError, match="keeps everything"):
        await jobs.run(CLOSED_CONVERSATIONS)
    assert await messages_of(sessions, old) == 3


async def test_a_backlog_of_closed_conversations_goes_in_batches(sessions, db_url) -> None:
    count = CONVERSATIONS_PER_BATCH + 7
    for index in range(count):
        await conversation_with_messages(sessions, f"b{index}", closed_ago=400 * DAY, comment=None)
    jobs = retention(sessions, db_url, closed_conversations="365d")

    assert await jobs.run(CLOSED_CONVERSATIONS) == 3 * count

    async with sessions() as session:
        left = await session.exec(select(func.count()).select_from(Message))
        assert int(left.one()) == 0
