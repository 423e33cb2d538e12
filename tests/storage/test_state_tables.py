"""The tables that replaced key-value rows: sent ids, customer copies, operator groups, digests."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.conversations import open_conversation
from storage.copies import CustomerCopy, add_customer_copy, customer_copies
from storage.customers import upsert_customer
from storage.feed import Digest, FeedState, lock_feed, save_feed
from storage.messages import store_inbound_message
from storage.operators import add_operator_groups, operator_groups
from storage.sent import message_for_sent, record_sent


async def _message(session: AsyncSession) -> int:
    customer = await upsert_customer(session, "vk", "7", "7", "Ann")
    conversation = await open_conversation(session, customer, "support")
    message = await store_inbound_message(
        session, conversation, channel="vk", external_id="m1", author="Ann", text="hi"
    )
    assert message is not None and message.id is not None
    return message.id


async def test_sent_ids_find_the_message_by_channel_family(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        message_id = await _message(session)
        await record_sent(session, "vk", ["501", "502", "501"], message_id)
        await session.commit()
        assert await message_for_sent(session, "vk:club", "502") == message_id
        assert await message_for_sent(session, "viber", "501") is None


async def test_customer_copies_keep_their_order_and_ignore_repeats(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        message_id = await _message(session)
        first, second = CustomerCopy("7", "10", "text"), CustomerCopy("7", "11", "caption")
        for copy in (first, second, first):
            await add_customer_copy(session, message_id, copy)
        await session.commit()
        assert await customer_copies(session, message_id) == [first, second]
        with pytest.raises(ValueError, match="form"):
            await add_customer_copy(session, message_id, CustomerCopy("7", "12", "sticker"))


async def test_operator_groups_accumulate(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await add_operator_groups(session, 100, {"support"})
        await add_operator_groups(session, 100, {"support", "sales"})
        await session.commit()
        assert await operator_groups(session, 100) == {"support", "sales"}
        assert await operator_groups(session, 101) == set()


async def test_feed_state_round_trips_through_its_tables(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await lock_feed(session, "support") == FeedState()
        state = FeedState(
            next=3,
            digests=[
                Digest(n=1, ids=[4], message_id=8, lines={"4": "#4"}),
                Digest(
                    n=2,
                    ids=[5, 6],
                    posting=True,
                    lines={"5": "#5", "6": "#6"},
                    labels={"5": "Accept #5"},
                    version=2,
                ),
            ],
        )
        await save_feed(session, "support", state)
        await session.commit()
    async with sessions() as session:
        again = await lock_feed(session, "support")
        assert again == state
        assert again.holding(6) is again.digests[1] and again.holding(7) is None
        again.digests = again.digests[1:]
        await save_feed(session, "support", again)
        await session.commit()
    async with sessions() as session:
        assert [d.n for d in (await lock_feed(session, "support")).digests] == [2]
        assert await lock_feed(session, "sales") == FeedState()
