"""Several processes on one PostgreSQL: only the leader polls VK, a standby takes over and
resumes from the stored `ts`, so an event sent while nobody polled still arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.vk.adapter import VkAdapter
from adapters.vk.settings import VkSettings
from bridge.cursors import StoredCursor
from bridge.leader import Leader
from sandbox.vk import FakeVK
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from tests.adapters.recording_sink import RecordingSink
from tests.adapters.vk.conftest import GROUP_ID, TOKEN

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def transactions(
    url: str,
) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[AsyncSession]]]:
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        async with sessions() as session, session.begin():
            yield session

    try:
        yield transaction
    finally:
        await engine.dispose()


async def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_only_the_leader_polls_and_a_standby_resumes_from_the_stored_ts(
    pg_url: str, fake_vk: FakeVK
) -> None:
    fake_vk.add_user(601, "Ivan", "Petrov")
    settings = VkSettings(
        group="support", token=TOKEN, group_id=GROUP_ID, api_url=fake_vk.public_url
    )
    async with transactions(pg_url) as transaction:
        cursor_key = f"vk:longpoll:ts:{GROUP_ID}"
        sinks = [RecordingSink(), RecordingSink()]
        leaders = [Leader(pg_url, retry_interval=0.2, check_interval=0.2) for _ in sinks]
        adapters = [
            VkAdapter(
                settings,
                sink,
                leader=leader,
                ts_store=StoredCursor(transaction, cursor_key),
                longpoll_wait=1,
                timeout=5,
            )
            for sink, leader in zip(sinks, leaders, strict=True)
        ]
        for adapter in adapters:
            await adapter.start()
        try:
            await wait_until(lambda: sum(leader.is_leader for leader in leaders) == 1)
            first = next(i for i, leader in enumerate(leaders) if leader.is_leader)
            second = 1 - first
            # Leading comes first, polling a moment later (the duty fetches the long-poll
            # server and its ts): an event sent before that would predate the first ts.
            await wait_until(lambda: "standby" not in adapters[first].state().detail)
            assert "standby" in adapters[second].state().detail

            await fake_vk.customer_message(601, "one")
            await sinks[first].wait_for(lambda s: len(s.inbound_events) == 1)
            await asyncio.sleep(0.3)  # the leader saved its ts after the commit
            assert sinks[second].inbound_events == []

            await adapters[first].stop()  # the leader goes away…
            await fake_vk.customer_message(601, "two")  # …and VK keeps the event meanwhile
            await wait_until(lambda: leaders[second].is_leader)
            await sinks[second].wait_for(lambda s: len(s.inbound_events) >= 1, within=10)
            assert [e.text for e in sinks[second].inbound_events] == ["two"]
            assert adapters[second].state().detail == ""
        finally:
            for adapter in adapters:
                await adapter.stop()
