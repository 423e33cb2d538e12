"""Messages: duplicates dropped, delivery state kept, group-message links survive restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select

from bridge.events import Attachment
from storage.conversations import open_conversation
from storage.customers import get_customer, upsert_customer
from storage.links import (
    add_link,
    conversation_for_group_message,
    link_for_group_message,
)
from storage.messages import (
    conversation_messages,
    find_message,
    get_message,
    mark_message_edited,
    set_delivery_state,
    store_inbound_message,
    store_note,
    store_operator_reply,
)
from storage.models import Conversation, Message
from storage.timeutil import utcnow


async def _conversation(sessions) -> Conversation:
    async with sessions() as session:
        customer = await upsert_customer(session, "vk", "1", "1", "Anna")
        conversation = await open_conversation(session, customer, "support")
        await session.commit()
        return conversation


async def _inbound(sessions, conversation, external_id, text="hi"):
    async with sessions() as session:
        message = await store_inbound_message(
            session,
            conversation,
            channel="vk",
            external_id=external_id,
            author="Anna",
            text=text,
        )
        await session.commit()
        return message


async def _count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)))


async def test_same_channel_and_external_id_twice_is_stored_once(sessions) -> None:
    conversation = await _conversation(sessions)
    first = await _inbound(sessions, conversation, "m-1")
    second = await _inbound(sessions, conversation, "m-1", text="hi (resent)")
    assert first is not None
    assert second is None
    assert await _count(sessions) == 1
    async with sessions() as session:
        assert await find_message(session, "vk", "m-1") is not None
        assert await find_message(session, "vk", "m-2") is None


async def test_concurrent_duplicates_are_dropped_without_errors(sessions) -> None:
    conversation = await _conversation(sessions)
    results = await asyncio.gather(*(_inbound(sessions, conversation, "m-9") for _ in range(6)))
    assert sum(result is not None for result in results) == 1
    assert await _count(sessions) == 1


async def test_messages_without_platform_ids_are_never_deduplicated(sessions) -> None:
    conversation = await _conversation(sessions)
    assert await _inbound(sessions, conversation, None) is not None
    assert await _inbound(sessions, conversation, None) is not None
    assert await _count(sessions) == 2


async def test_inbound_message_bumps_conversation_and_customer_times(sessions) -> None:
    conversation = await _conversation(sessions)
    sent_at = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    received_from = utcnow()
    async with sessions() as session:
        photo = Attachment(kind="photo", url="https://x/p.jpg", data=b"raw bytes")
        message = await store_inbound_message(
            session,
            conversation,
            channel="vk",
            external_id="m-1",
            author="Anna",
            text="look",
            attachments=[photo],
            created_at=sent_at,
        )
        await session.commit()
    async with sessions() as session:
        stored = await session.get(Conversation, conversation.id)
        customer = await get_customer(session, conversation.customer_id)
        reread = await get_message(session, message.id)
    # The counters' time is the bridge's receive time (the clock replies use too); the
    # platform's time stays on the message, for display.
    assert received_from <= stored.last_customer_message_at <= utcnow()
    assert reread.created_at == sent_at
    assert customer.last_inbound_at == sent_at
    assert reread.attachments == [{"kind": "photo", "url": "https://x/p.jpg"}]
    assert reread.direction == "in" and reread.delivery_state == "delivered"


async def test_reply_delivery_state_and_error_are_kept(sessions) -> None:
    conversation = await _conversation(sessions)
    async with sessions() as session:
        reply = await store_operator_reply(
            session, conversation.id, channel="vk", author="Kate", text="Hello!"
        )
        assert reply.delivery_state == "pending"
        assert await set_delivery_state(session, reply.id, "failed", "user blocked the bot")
        await session.commit()
    async with sessions() as session:
        stored = await get_message(session, reply.id)
        conv = await session.get(Conversation, conversation.id)
    assert (stored.delivery_state, stored.delivery_error) == ("failed", "user blocked the bot")
    assert conv.last_operator_reply_at == stored.created_at


async def test_history_lists_messages_in_order_and_notes_are_kept_apart(sessions) -> None:
    conversation = await _conversation(sessions)
    await _inbound(sessions, conversation, "m-1", "one")
    async with sessions() as session:
        await store_note(session, conversation.id, channel="telegram", author="Kate", text="vip")
        await store_operator_reply(
            session, conversation.id, channel="vk", author="Kate", text="two"
        )
        await session.commit()
    await _inbound(sessions, conversation, "m-3", "three")
    async with sessions() as session:
        history = await conversation_messages(session, conversation.id)
        newest = await conversation_messages(session, conversation.id, limit=2)
    assert [(m.direction, m.text) for m in history] == [
        ("in", "one"),
        ("note", "vip"),
        ("out", "two"),
        ("in", "three"),
    ]
    assert [m.text for m in newest] == ["two", "three"]


async def test_edit_replaces_text_and_records_when(sessions) -> None:
    conversation = await _conversation(sessions)
    message = await _inbound(sessions, conversation, "m-1", "helo")
    async with sessions() as session:
        assert await mark_message_edited(session, message.id, "hello")
        await session.commit()
        stored = await get_message(session, message.id)
    assert stored.text == "hello" and stored.edited_at is not None


async def test_group_message_leads_back_to_its_conversation(sessions) -> None:
    conversation = await _conversation(sessions)
    message = await _inbound(sessions, conversation, "m-1")
    async with sessions() as session:
        await add_link(session, conversation.id, -100123, 501, "card")
        link = await add_link(
            session, conversation.id, -100123, 502, "customer_copy", message.id, 55
        )
        again = await add_link(session, conversation.id, -100123, 502, "customer_copy", message.id)
        await session.commit()
    assert again.id == link.id
    async with sessions() as session:  # a new session: nothing comes from memory
        found = await conversation_for_group_message(session, -100123, 502)
        assert found is not None and found.id == conversation.id
        assert await conversation_for_group_message(session, -100123, 999) is None
        assert await conversation_for_group_message(session, -100999, 502) is None
        assert (await link_for_group_message(session, -100123, 502)).topic_id == 55
        assert (await link_for_group_message(session, -100123, 502)).message_id == message.id
