"""Group commit of inbound events against the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from bridge.core.group_commit import GroupCommit, IngestStopped, Outcome, running
from bridge.core.inbound import DuplicateInbound, InboundResult, handle_inbound
from bridge.core.inbound_batch import handle_inbound_batch
from bridge.events import CustomerProfile, Inbound
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Message
from tests.bridge.core.core_fakes import FakeDesk

ANN = CustomerProfile(first_name="Ann", last_name="Lee", language="en")


def said(external_id: str, body: str, user: str) -> Inbound:
    return Inbound(
        channel="telegram",
        chat=user,
        user=user,
        external_id=external_id,
        text=body,
        profile=ANN,
    )


def core_handler(desk: FakeDesk):
    async def handle(session, event: Inbound) -> InboundResult:
        if event.text == "explode":
            raise ValueError("a bad event")
        return await handle_inbound(session, event, group="support", desk=desk)

    return handle


async def stored_texts(sessions) -> list[str]:
    async with sessions() as session:
        rows = await session.exec(select(Message.text).order_by(Message.id))
        return [row[0] for row in rows.all()]


async def test_concurrent_events_share_commits_and_each_caller_gets_its_own_result(
    sessions,
) -> None:
    desk = FakeDesk()
    commits: list[int] = []
    committer = GroupCommit(sessions, core_handler(desk), on_commit=lambda: commits.append(1))
    async with running(committer):
        events = [said(str(i), f"m{i}", user=str(500 + i % 7)) for i in range(60)]
        results = await asyncio.gather(*(committer.submit(e) for e in events))
    assert [r.status for r in results] == ["posted"] * 60
    assert len({r.message_id for r in results}) == 60
    assert committer.stats.events == 60
    assert committer.stats.batches < 60  # shared transactions, not one per event
    assert len(commits) == committer.stats.batches
    assert sorted(await stored_texts(sessions)) == sorted(f"m{i}" for i in range(60))
    assert desk.names().count("post_card") == 7  # one new conversation per customer


async def test_a_bad_event_fails_alone_and_its_batch_neighbours_are_stored(sessions) -> None:
    committer = GroupCommit(sessions, core_handler(FakeDesk()), linger=0.05)
    async with running(committer):
        outcomes = await asyncio.gather(
            committer.submit(said("1", "before", "501")),
            committer.submit(said("2", "explode", "502")),
            committer.submit(said("3", "after", "503")),
            return_exceptions=True,
        )
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[0].status == "posted" and outcomes[2].status == "posted"
    assert committer.stats.batches == 1  # the bad event did not break the shared commit
    assert await stored_texts(sessions) == ["before", "after"]


async def test_a_duplicate_in_the_same_batch_is_stored_once(sessions) -> None:
    committer = GroupCommit(sessions, core_handler(FakeDesk()), linger=0.05)
    async with running(committer):
        outcomes = await asyncio.gather(
            committer.submit(said("7", "hello", "501")),
            committer.submit(said("7", "hello", "501")),
            return_exceptions=True,
        )
    first, second = outcomes
    assert first.status == "posted"
    assert isinstance(second, DuplicateInbound) or second.status == "duplicate"
    assert await stored_texts(sessions) == ["hello"]


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator:
    await upgrade_async(sqlite_url)
    engine = create_engine(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_a_commit_that_fails_stores_each_event_alone(sqlite_sessions) -> None:
    sessions = sqlite_sessions

    async def handle(session, event: Inbound) -> InboundResult:
        result = await handle_inbound(session, event, group="support", desk=FakeDesk())
        if event.text == "poison":  # a row that only the COMMIT finds wrong (deferred FK)
            await session.exec(text("PRAGMA defer_foreign_keys = ON"))
            await session.exec(
                text("UPDATE messages SET conversation_id = 999999 WHERE id = :id"),
                params={"id": result.message_id},
            )
        return result

    committer = GroupCommit(sessions, handle, linger=0.05)
    async with running(committer):
        outcomes = await asyncio.gather(
            committer.submit(said("1", "good", "501")),
            committer.submit(said("2", "poison", "502")),
            return_exceptions=True,
        )
    assert isinstance(outcomes[0], InboundResult) and outcomes[0].status == "posted"
    assert isinstance(outcomes[1], Exception) and "FOREIGN KEY" in str(outcomes[1])
    assert committer.stats.commit_failures == 1
    assert await stored_texts(sessions) == ["good"]


async def test_submit_after_stop_is_refused(sessions) -> None:
    committer = GroupCommit(sessions, core_handler(FakeDesk()))
    async with running(committer):
        await committer.submit(said("1", "one", "501"))
    with pytest.raises(IngestStopped):
        await committer.submit(said("2", "two", "501"))
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Message))).scalar_one() == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda: None, core_handler(FakeDesk()), max_batch=0)
    with pytest.raises(ValueError, match="linger"):
        GroupCommit(lambda: None, core_handler(FakeDesk()), linger=-1)


def batch_handler(desk: FakeDesk, seen: list[int]):
    async def handle_batch(session, events: list[Inbound]) -> list[Outcome[InboundResult]]:
        seen.append(len(events))
        if any(event.text == "explode" for event in events):
            raise ValueError("a bad event fails its whole batch")
        results = await handle_inbound_batch(session, events, group="support", desk=desk)
        return [Outcome(result) for result in results]

    return handle_batch


async def test_a_batch_handler_gets_the_whole_batch_and_each_caller_its_own_result(
    sessions,
) -> None:
    desk, sizes = FakeDesk(), []
    committer = GroupCommit(
        sessions, core_handler(desk), handle_batch=batch_handler(desk, sizes), linger=0.05
    )
    async with running(committer):
        opened = [said(f"open{u}", "hello", str(u)) for u in range(600, 605)]
        await asyncio.gather(*(committer.submit(e) for e in opened))
        events = [said(str(i), f"m{i}", user=str(600 + i % 5)) for i in range(40)]
        results = await asyncio.gather(*(committer.submit(e) for e in events))
    assert [r.status for r in results] == ["posted"] * 40
    assert max(sizes) > 1 and sum(sizes) == 45
    texts = await stored_texts(sessions)
    for user in range(5):  # each customer's messages stored in the order they were sent
        mine = [t for t in texts if t.startswith("m") and int(t[1:]) % 5 == user]
        assert mine == [f"m{i}" for i in range(user, 40, 5)]


async def test_a_failed_batch_is_stored_again_event_by_event(sessions) -> None:
    desk, sizes = FakeDesk(), []
    committer = GroupCommit(
        sessions, core_handler(desk), handle_batch=batch_handler(desk, sizes), linger=0.05
    )
    async with running(committer):
        outcomes = await asyncio.gather(
            committer.submit(said("1", "before", "701")),
            committer.submit(said("2", "explode", "702")),
            committer.submit(said("3", "after", "703")),
            return_exceptions=True,
        )
    assert sizes == [3]  # one batch, which failed; then each event alone
    assert outcomes[0].status == "posted" and outcomes[2].status == "posted"
    assert isinstance(outcomes[1], ValueError)
    assert await stored_texts(sessions) == ["before", "after"]
    assert committer.stats.commit_failures == 1
