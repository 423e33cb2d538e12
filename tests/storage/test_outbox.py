"""The outbox queries on SQLite and PostgreSQL: enqueue, lane heads, leases, supersede."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.outbox import enqueue
from storage import outbox as store
from storage.timeutil import utcnow
from tests.bridge.outbox.helpers import open_db


@pytest.fixture(autouse=True)
def _probe_postgres_outside_the_loop(request: pytest.FixtureRequest) -> None:
    # tests/conftest.py's pg_server uses asyncio.run: request it before the loop runs.
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("db_url") == "postgresql":
        request.getfixturevalue("pg_server")


@pytest.fixture
async def factory(db_url: str):
    engine, sf = await open_db(db_url)
    yield sf
    await engine.dispose()


async def put(sf, lane: str, dest: str = "-1", **kw):
    async with sf() as s:
        kw.setdefault("kind", "call")
        row = await enqueue(
            s, platform="telegram", destination=dest, lane=lane, payload={"n": lane}, **kw
        )
        await s.commit()
        return row.id


async def lease(sf, owner: str = "w1", limit: int = 10, now=None, busy=()):
    now = now or utcnow()
    async with sf() as s:
        rows = await store.lease_heads(
            s,
            owner=owner,
            now=now,
            lease_until=now + timedelta(seconds=30),
            limit=limit,
            busy_destinations=busy,
        )
        await s.commit()
        return [r.id for r in rows]


async def test_enqueue_does_not_commit_the_callers_transaction(factory) -> None:
    async with factory() as s:
        await enqueue(s, platform="telegram", destination=5, lane="a", kind="x", payload={})
        await s.rollback()
    async with factory() as s:
        assert await store.count_by_state(s) == {}


async def test_only_the_head_of_a_lane_is_leased(factory) -> None:
    a1 = await put(factory, "a", dest="1")
    await put(factory, "a", dest="1")
    b1 = await put(factory, "b", dest="2")
    assert sorted(await lease(factory)) == [a1, b1]
    assert await lease(factory) == []


async def test_one_row_per_destination_per_lease(factory) -> None:
    a1 = await put(factory, "topic1", dest="-5")
    await put(factory, "topic2", dest="-5")
    assert await lease(factory) == [a1]


async def test_busy_destinations_are_skipped(factory) -> None:
    await put(factory, "a", dest="1")
    b = await put(factory, "b", dest="2")
    assert await lease(factory, busy={"1"}) == [b]


async def test_lower_priority_number_goes_first(factory) -> None:
    await put(factory, "dash", dest="1", priority=200)
    reply = await put(factory, "reply", dest="2", priority=10)
    assert await lease(factory, limit=1) == [reply]


async def test_done_head_frees_the_next_row_of_its_lane(factory) -> None:
    a1 = await put(factory, "a")
    a2 = await put(factory, "a")
    assert await lease(factory) == [a1]
    async with factory() as s:
        done = await store.mark_done(
            s, {a1: 1}, owner="w1", result={"message_id": 9}, now=utcnow()
        )
        await s.commit()
    assert [r.id for r in done] == [a1]
    assert await lease(factory) == [a2]


async def test_failed_head_does_not_block_its_lane(factory) -> None:
    a1 = await put(factory, "a")
    a2 = await put(factory, "a")
    await lease(factory)
    async with factory() as s:
        rows = await store.mark_failed(s, {a1: 1}, owner="w1", reason="blocked", now=utcnow())
        await s.commit()
    assert rows[0].last_error == "blocked"
    assert await lease(factory) == [a2]


async def test_expired_lease_is_taken_over_by_another_owner(factory) -> None:
    a1 = await put(factory, "a")
    assert await lease(factory, owner="dead") == [a1]
    assert await lease(factory, owner="alive") == []
    later = utcnow() + timedelta(seconds=31)
    assert await lease(factory, owner="alive", now=later) == [a1]
    async with factory() as s:  # the dead owner can no longer complete it
        assert await store.mark_done(s, {a1: 1}, owner="dead", result={}, now=later) == []


async def test_release_counts_the_attempt_and_delays_the_row(factory) -> None:
    a1 = await put(factory, "a")
    await lease(factory)
    later = utcnow() + timedelta(seconds=5)
    async with factory() as s:
        rows = await store.release(
            s, {a1: 1}, owner="w1", not_before=later, error="503", count_attempt_of=a1
        )
        await s.commit()
    assert rows[0].attempts == 1 and rows[0].last_error == "503"
    assert await lease(factory) == []
    assert await lease(factory, now=later + timedelta(seconds=1)) == [a1]


async def test_newer_dashboard_supersedes_pending_ones(factory) -> None:
    first = await put(factory, "dash", kind="dashboard", coalesce_key="counters")
    second = await put(factory, "dash", kind="dashboard", coalesce_key="counters")
    third = await put(factory, "dash", kind="dashboard", coalesce_key="counters")
    assert await lease(factory) == [third]
    async with factory() as s:
        states = await store.count_by_state(s)
    assert states == {"superseded": 2, "leased": 1}
    assert first < second < third


async def test_leased_edit_is_not_superseded(factory) -> None:
    first = await put(factory, "card", kind="edit", coalesce_key="msg:5")
    assert await lease(factory) == [first]
    await put(factory, "card", kind="edit", coalesce_key="msg:5")
    async with factory() as s:
        assert await store.count_by_state(s) == {"leased": 1, "pending": 1}


async def test_pacing_rows_are_created_and_locked(factory) -> None:
    async with factory() as s:
        rows = await store.lock_pacing(s, ["b", "a", "a"])
        assert sorted(rows) == ["a", "b"]
        rows["a"].tokens = 1.0
        await store.store_pacing(s, rows.values())
        await s.commit()
    async with factory() as s:
        assert (await store.lock_pacing(s, ["a"]))["a"].tokens == 1.0


async def test_pacing_window_log_survives_in_the_database(factory) -> None:
    async with factory() as s:
        rows = await store.lock_pacing(s, ["telegram|-1"])
        assert rows["telegram|-1"].window_log is None
        rows["telegram|-1"].window_log = "[1795569784.047739,1795569785.1]"
        await store.store_pacing(s, rows.values())
        await s.commit()
    async with factory() as s:
        row = (await store.lock_pacing(s, ["telegram|-1"]))["telegram|-1"]
        assert row.window_log == "[1795569784.047739,1795569785.1]"


async def test_queue_stats_counts_open_rows(factory) -> None:
    await put(factory, "a")
    await put(factory, "b", dest="2")
    async with factory() as s:
        depth, oldest = await store.queue_stats(s, utcnow() + timedelta(seconds=3))
    assert depth == 2
    assert oldest >= 2.9


async def test_enqueue_refuses_bad_input(factory) -> None:
    async with factory() as s:
        with pytest.raises(ValueError, match="lane"):
            await enqueue(s, platform="telegram", destination=1, lane="", kind="x", payload={})
        with pytest.raises(TypeError, match="payload"):
            await enqueue(s, platform="telegram", destination=1, lane="a", kind="x", payload=[])


async def test_a_superseding_edit_keeps_the_most_urgent_priority(factory) -> None:
    # The operator's accept (urgent) is carried on by a routine edit of the same message.
    await put(factory, "digest", kind="edit", coalesce_key="d:1", priority=15)
    await put(factory, "digest", kind="edit", coalesce_key="d:1", priority=19)
    newest = await put(factory, "digest", kind="edit", coalesce_key="d:1", priority=19)
    async with factory() as s:
        from storage.models import OutboxItem

        row = await s.get(OutboxItem, newest)
        assert row is not None and row.priority == 15


async def test_an_interactive_head_is_leased_beside_a_busy_ordinary_one(factory) -> None:
    ordinary = await put(factory, "feed", priority=20)
    accept = await put(factory, "topic", priority=5)
    later = await put(factory, "copies", priority=50)
    now = utcnow()

    async def heads(busy=(), busy_fast=()):
        async with factory() as s:
            rows = await store.lease_heads(
                s,
                owner="w1",
                now=now,
                lease_until=now + timedelta(seconds=30),
                limit=10,
                busy_destinations=busy,
                interactive_below=6,
                busy_interactive=busy_fast,
            )
            ids = [r.id for r in rows]
            await s.rollback()
            return ids

    # One head of each class per destination, the most urgent of each.
    assert await heads() == [accept, ordinary]
    # An ordinary row is in flight (sleeping towards its slot): the Accept still goes.
    assert await heads(busy=["-1"]) == [accept]
    # The Accept is in flight: the next ordinary row goes beside it.
    assert await heads(busy_fast=["-1"]) == [ordinary]
    assert await heads(busy=["-1"], busy_fast=["-1"]) == []
    assert later > ordinary
