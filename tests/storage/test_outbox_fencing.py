"""Fencing tokens of outbox leases on SQLite and PostgreSQL: an old lease records nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import outbox as store
from storage.timeutil import utcnow
from tests.bridge.outbox.helpers import open_db
from tests.storage.test_outbox import lease, put


@pytest.fixture(autouse=True)
def _probe_postgres_outside_the_loop(request: pytest.FixtureRequest) -> None:
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("db_url") == "postgresql":
        request.getfixturevalue("pg_server")


@pytest.fixture
async def factory(db_url: str):
    engine, sf = await open_db(db_url)
    yield sf
    await engine.dispose()


async def test_an_expired_lease_cannot_record_over_the_same_owners_new_lease(factory) -> None:
    row = await put(factory, "a")
    assert await lease(factory, owner="w1") == [row]  # token 1: its call hangs...
    later = utcnow() + timedelta(seconds=31)
    assert await lease(factory, owner="w1", now=later) == [row]  # ...expires: token 2
    async with factory() as s:
        assert await store.mark_done(s, {row: 1}, owner="w1", result={}, now=later) == []
        assert await store.release(s, {row: 1}, owner="w1", error="late") == []
        done = await store.mark_done(s, {row: 2}, owner="w1", result={"message_id": 7}, now=later)
        await s.commit()
    assert [(r.id, r.state, r.result, r.last_error) for r in done] == [
        (row, "done", {"message_id": 7}, None)
    ]


async def test_a_heartbeat_extends_only_the_rows_still_held_with_its_tokens(factory) -> None:
    mine, taken = await put(factory, "a", dest="1"), await put(factory, "b", dest="2")
    assert await lease(factory, owner="w1") == [mine, taken]
    later = utcnow() + timedelta(seconds=31)  # both expired; w2 takes one over
    assert await lease(factory, owner="w2", now=later, busy={"1"}) == [taken]
    async with factory() as s:
        kept = await store.extend_lease(
            s, {mine: 1, taken: 1}, owner="w1", lease_until=later + timedelta(minutes=1)
        )
        await s.commit()
    assert kept == {mine}
