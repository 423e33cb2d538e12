"""Processed-event dedup, the key-value table, operators and the avatar file_id cache."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.avatars import get_avatar_file_id, put_avatar_file_id
from storage.operators import (
    get_operator,
    operators_reachable_in_private,
    set_private_chat_started,
    upsert_operator,
)
from storage.state import kv_get, kv_set, mark_event_processed, prune_processed_events
from storage.timeutil import utcnow


async def test_an_event_id_is_processed_once_per_source(sessions) -> None:
    async with sessions() as session:
        assert await mark_event_processed(session, "vk", "ev-1")
        assert not await mark_event_processed(session, "vk", "ev-1")
        assert await mark_event_processed(session, "telegram", "ev-1")
        assert await mark_event_processed(session, "telegram", 12345)
        assert not await mark_event_processed(session, "telegram", "12345")
        await session.commit()


async def test_concurrent_deliveries_of_one_event_let_one_through(sessions) -> None:
    async def deliver() -> bool:
        async with sessions() as session:
            fresh = await mark_event_processed(session, "viber", "token-77")
            await session.commit()
            return fresh

    results = await asyncio.gather(*(deliver() for _ in range(8)))
    assert results.count(True) == 1


async def test_old_event_ids_can_be_pruned(sessions) -> None:
    async with sessions() as session:
        await mark_event_processed(session, "vk", "old")
        await session.commit()
        assert await prune_processed_events(session, utcnow() - timedelta(hours=1)) == 0
        assert await prune_processed_events(session, utcnow() + timedelta(seconds=1)) == 1
        await session.commit()
        assert await mark_event_processed(session, "vk", "old")


async def test_kv_stores_and_replaces_values(sessions) -> None:
    async with sessions() as session:
        assert await kv_get(session, "telegram.offset") is None
        assert await kv_get(session, "telegram.offset", "0") == "0"
        await kv_set(session, "telegram.offset", "100")
        await kv_set(session, "telegram.offset", "101")
        await session.commit()
    async with sessions() as session:
        assert await kv_get(session, "telegram.offset") == "101"


async def test_operator_is_upserted_and_private_chat_recorded(sessions) -> None:
    async with sessions() as session:
        await upsert_operator(session, 7_000_000_001, "Kate", "kate")
        operator = await upsert_operator(session, 7_000_000_001, "Kate S.", None, "en")
        assert (operator.name, operator.username, operator.language) == ("Kate S.", None, "en")
        await upsert_operator(session, 8, "Max")
        await set_private_chat_started(session, 8)
        await session.commit()
    async with sessions() as session:
        assert (await get_operator(session, 7_000_000_001)).private_chat_started is False
        assert [op.id for op in await operators_reachable_in_private(session)] == [8]


async def test_avatar_file_id_is_remembered_per_render_key(sessions) -> None:
    async with sessions() as session:
        assert await get_avatar_file_id(session, "AP:vk:#5b8def") is None
        await put_avatar_file_id(session, "AP:vk:#5b8def", "file-1")
        await put_avatar_file_id(session, "AP:vk:#5b8def", "file-2")
        await session.commit()
    async with sessions() as session:
        assert await get_avatar_file_id(session, "AP:vk:#5b8def") == "file-2"
