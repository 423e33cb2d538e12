"""Conversations: one open per customer, exclusive claims, release, transfer, close, history."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from storage.conversations import (
    ConversationAlreadyOpen,
    claim_conversation,
    close_conversation,
    find_open_conversation,
    find_or_open_conversation,
    get_conversation,
    open_conversation,
    open_conversations,
    release_conversation,
    set_card,
    set_topic,
    transfer_conversation,
)
from storage.customers import upsert_customer
from storage.models import Conversation, Customer


async def _customer(sessions, external_id: str = "1") -> Customer:
    async with sessions() as session:
        customer = await upsert_customer(session, "vk", external_id, external_id, None)
        await session.commit()
        return customer


async def _open(sessions, customer: Customer, group: str = "support") -> Conversation:
    async with sessions() as session:
        conversation = await open_conversation(session, customer, group)
        await session.commit()
        return conversation


async def test_new_conversation_starts_new_with_no_operator(sessions) -> None:
    conversation = await _open(sessions, await _customer(sessions))
    assert conversation.state == "new"
    assert conversation.operator_id is None
    assert conversation.previous_conversation_id is None
    assert conversation.opened_at.tzinfo is not None


async def test_second_open_conversation_for_a_customer_is_refused(sessions) -> None:
    customer = await _customer(sessions)
    first = await _open(sessions, customer)
    async with sessions() as session:
        with pytest.raises(ConversationAlreadyOpen) as refused:
            await open_conversation(session, customer, "support")
    assert refused.value.conversation.id == first.id


async def test_database_itself_refuses_two_open_conversations(sessions) -> None:
    customer = await _customer(sessions)
    await _open(sessions, customer)
    async with sessions() as session:
        session.add(Conversation(customer_id=customer.id, group="support", state="accepted"))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_concurrent_first_messages_share_one_conversation(sessions) -> None:
    customer = await _customer(sessions)

    async def arrive() -> tuple[int, bool]:
        async with sessions() as session:
            conversation, created = await find_or_open_conversation(session, customer, "support")
            await session.commit()
            return conversation.id, created

    results = await asyncio.gather(*(arrive() for _ in range(8)))
    assert len({conversation_id for conversation_id, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1


async def test_ten_concurrent_claims_have_exactly_one_winner(sessions) -> None:
    conversation = await _open(sessions, await _customer(sessions))

    async def press_accept(operator_id: int) -> bool:
        async with sessions() as session:
            won = await claim_conversation(
                session, conversation.id, operator_id, f"op{operator_id}"
            )
            await session.commit()
            return won

    results = await asyncio.gather(*(press_accept(op) for op in range(1, 11)))
    assert results.count(True) == 1
    winner = results.index(True) + 1
    async with sessions() as session:
        stored = await get_conversation(session, conversation.id)
    assert stored is not None
    assert (stored.state, stored.operator_id, stored.operator_name) == (
        "accepted",
        winner,
        f"op{winner}",
    )
    assert stored.accepted_at is not None


async def test_release_returns_the_conversation_to_the_feed(sessions) -> None:
    conversation = await _open(sessions, await _customer(sessions))
    async with sessions() as session:
        assert await claim_conversation(session, conversation.id, 7, "Kate")
        assert not await release_conversation(session, conversation.id, operator_id=8)
        assert await release_conversation(session, conversation.id, operator_id=7)
        assert not await release_conversation(session, conversation.id)
        await session.commit()
        stored = await get_conversation(session, conversation.id)
        assert stored is not None
        assert (stored.state, stored.operator_id, stored.operator_name) == ("new", None, None)
        assert await claim_conversation(session, conversation.id, 8, "Max")


async def test_transfer_hands_an_accepted_conversation_over(sessions) -> None:
    conversation = await _open(sessions, await _customer(sessions))
    async with sessions() as session:
        assert not await transfer_conversation(session, conversation.id, 8, "Max")  # still new
        assert await claim_conversation(session, conversation.id, 7, "Kate")
        assert not await transfer_conversation(session, conversation.id, 9, "Lev", 8)
        assert await transfer_conversation(session, conversation.id, 8, "Max", 7)
        await session.commit()
        stored = await get_conversation(session, conversation.id)
    assert stored is not None
    assert (stored.state, stored.operator_id, stored.operator_name) == ("accepted", 8, "Max")


async def test_closed_conversation_cannot_be_claimed_or_closed_again(sessions) -> None:
    conversation = await _open(sessions, await _customer(sessions))
    async with sessions() as session:
        assert await close_conversation(session, conversation.id)
        assert not await close_conversation(session, conversation.id)
        assert not await claim_conversation(session, conversation.id, 7, "Kate")
        await session.commit()
        stored = await get_conversation(session, conversation.id)
    assert stored is not None
    assert stored.state == "closed"
    assert stored.closed_at is not None


async def test_new_conversation_after_close_links_the_previous_and_reuses_its_topic(
    sessions,
) -> None:
    customer = await _customer(sessions)
    first = await _open(sessions, customer)
    async with sessions() as session:
        await set_topic(session, first.id, 55)
        await set_card(session, first.id, -100123, 9)
        await close_conversation(session, first.id)
        await session.commit()
    second = await _open(sessions, customer)
    assert second.id != first.id
    assert second.previous_conversation_id == first.id
    assert second.topic_id == 55
    assert second.card_message_id is None
    async with sessions() as session:
        assert (await find_open_conversation(session, customer.id)).id == second.id
        await close_conversation(session, second.id)
        await session.commit()
    third = await _open(sessions, customer, group="sales")
    assert third.previous_conversation_id == second.id
    assert third.topic_id is None  # topics belong to one group's forum


async def test_open_conversations_filter_by_group_and_operator(sessions) -> None:
    a = await _open(sessions, await _customer(sessions, "a"))
    b = await _open(sessions, await _customer(sessions, "b"))
    c = await _open(sessions, await _customer(sessions, "c"), group="sales")
    async with sessions() as session:
        await claim_conversation(session, b.id, 7, "Kate")
        await session.commit()
        support = [
            conversation.id for conversation in await open_conversations(session, "support")
        ]
        mine = [conversation.id for conversation in await open_conversations(session, None, 7)]
    assert support == [a.id, b.id]
    assert mine == [b.id]
    assert c.id not in support
