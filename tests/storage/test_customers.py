"""Customers: one row per (channel, platform id), guest numbers unique and stable."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func
from sqlmodel import select

from bridge.events import CustomerProfile
from storage.customers import (
    find_customer,
    get_customer,
    set_customer_reachable,
    upsert_customer,
)
from storage.models import Customer


async def _upsert(sessions, external_id: str, name: str | None = None) -> Customer:
    async with sessions() as session:
        customer = await upsert_customer(session, "vk", external_id, external_id, name)
        await session.commit()
        return customer


async def test_unknown_name_gets_a_guest_number(sessions) -> None:
    customer = await _upsert(sessions, "100")
    assert customer.name is None
    assert customer.guest_number == 1
    assert customer.display_name == "Guest 1"


async def test_known_name_needs_no_guest_number(sessions) -> None:
    customer = await _upsert(sessions, "100", "Anna Petrova")
    assert customer.guest_number is None
    assert customer.display_name == "Anna Petrova"


async def test_same_customer_twice_keeps_one_row_and_one_number(sessions) -> None:
    first = await _upsert(sessions, "100")
    second = await _upsert(sessions, "100")
    other = await _upsert(sessions, "200")
    assert second.id == first.id
    assert second.guest_number == first.guest_number == 1
    assert other.guest_number == 2


async def test_name_learned_later_keeps_the_guest_number(sessions) -> None:
    guest = await _upsert(sessions, "100")
    named = await _upsert(sessions, "100", "Ivan")
    again_unnamed = await _upsert(sessions, "100", None)
    assert named.id == guest.id
    assert named.name == "Ivan"
    assert named.guest_number == guest.guest_number
    assert again_unnamed.name == "Ivan"
    assert again_unnamed.display_name == "Ivan"


async def test_same_external_id_on_another_channel_is_another_customer(sessions) -> None:
    async with sessions() as session:
        vk = await upsert_customer(session, "vk", "7", "7", None)
        viber = await upsert_customer(session, "viber", "7", "7", None)
        await session.commit()
    assert vk.id != viber.id
    assert {vk.guest_number, viber.guest_number} == {1, 2}


async def test_twenty_concurrent_new_customers_get_twenty_distinct_numbers(sessions) -> None:
    customers = await asyncio.gather(*(_upsert(sessions, f"u{i}") for i in range(20)))
    numbers = [customer.guest_number for customer in customers]
    assert sorted(numbers) == list(range(1, 21))


async def test_concurrent_upserts_of_one_customer_make_one_row_and_one_number(sessions) -> None:
    customers = await asyncio.gather(*(_upsert(sessions, "same") for _ in range(10)))
    assert len({customer.id for customer in customers}) == 1
    assert len({customer.guest_number for customer in customers}) == 1
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(Customer))
    assert rows == 1


async def test_profile_dataclass_is_stored_and_fills_language(sessions) -> None:
    profile = CustomerProfile(first_name="Olga", language="ru")
    async with sessions() as session:
        await upsert_customer(session, "telegram", "55", "55", "Olga", profile)
        await session.commit()
    async with sessions() as session:
        stored = await find_customer(session, "telegram", "55")
    assert stored is not None
    assert stored.profile == {"first_name": "Olga", "language": "ru"}
    assert stored.language == "ru"
    assert stored.created_at.tzinfo is not None


async def test_chat_follows_the_latest_message(sessions) -> None:
    async with sessions() as session:
        await upsert_customer(session, "site:shop", "visitor-1", "socket-a", None)
        customer = await upsert_customer(session, "site:shop", "visitor-1", "socket-b", None)
        await session.commit()
    assert customer.chat == "socket-b"


@pytest.mark.parametrize(
    ("channel", "external_id", "chat"), [("", "1", "1"), ("vk", "", "1"), ("vk", "1", None)]
)
async def test_missing_keys_are_refused_clearly(sessions, channel, external_id, chat) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="must be a non-empty string"):
            await upsert_customer(session, channel, external_id, chat, None)


async def test_unreachable_reason_is_recorded(sessions) -> None:
    customer = await _upsert(sessions, "100")
    async with sessions() as session:
        assert await set_customer_reachable(session, customer.id, False, "blocked the bot")
        await session.commit()
    async with sessions() as session:
        stored = await get_customer(session, customer.id)
    assert stored is not None
    assert (stored.reachable, stored.unreachable_reason) == (False, "blocked the bot")
