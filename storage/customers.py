"""Customers: upsert by (channel, platform user id), guest numbers, reachability.

A customer whose name is unknown gets a guest number ("Guest N") from one sequence per
installation: a PostgreSQL SEQUENCE (atomic across processes, never blocks) or, on SQLite, a
one-row counter updated inside the caller's transaction (SQLite transactions are serialised by
`BEGIN IMMEDIATE`). Once given, a guest number never changes, even after the name is known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_name
from storage.dialect import upsert_insert
from storage.models import GUEST_NUMBER_SEQUENCE, Customer, GuestCounter
from storage.timeutil import utcnow


def _profile_dict(profile: Any) -> dict[str, Any] | None:
    if profile is None:
        return None
    if dataclasses.is_dataclass(profile) and not isinstance(profile, type):
        data = dataclasses.asdict(profile)
    elif isinstance(profile, Mapping):
        data = dict(profile)
    else:
        raise TypeError(f"profile must be a dict or a dataclass, not {type(profile).__name__}")
    return {key: value for key, value in data.items() if value is not None}


def _require_text(name: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


async def upsert_customer(
    session: AsyncSession,
    channel: str,
    external_id: str,
    chat: str,
    name: str | None = None,
    profile: Mapping[str, Any] | Any | None = None,
) -> Customer:
    """Create or update the customer (channel, external_id) and return it, row-locked.

    A known `name` replaces the stored one; None keeps it. A customer still without a name gets
    a guest number (once). `profile` (a dict or a `CustomerProfile`) replaces the stored profile
    when given; its `language` fills the language. Safe against concurrent upserts of the same
    customer: the row is created at most once and its guest number assigned once.
    """
    channel = _require_text("channel", channel)
    external_id = _require_text("external_id", external_id)
    chat = _require_text("chat", chat)
    name, profile_data, language = _given(name, profile)
    customer = await _locked_customer(session, channel, external_id)
    if customer is None:
        await _insert_customer(session, channel, external_id, chat, name, profile_data, language)
        customer = await _locked_customer(session, channel, external_id)
    assert customer is not None
    for field, value in _changes(customer, chat, name, profile_data, language).items():
        setattr(customer, field, value)
    if customer.name is None and customer.guest_number is None:
        customer.guest_number = await next_guest_number(session)
    session.add(customer)
    await session.flush()
    return customer


async def _locked_customer(
    session: AsyncSession, channel: str, external_id: str
) -> Customer | None:
    """The customer row, freshly read and locked until the transaction ends."""
    result = await session.exec(
        select(Customer)
        .where(Customer.channel == channel, Customer.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def _insert_customer(
    session: AsyncSession,
    channel: str,
    external_id: str,
    chat: str,
    name: str | None,
    profile_data: dict[str, Any] | None,
    language: Any,
) -> None:
    """Insert the customer unless a concurrent transaction just did."""
    now = utcnow()
    await session.exec(
        upsert_insert(session, Customer)
        .values(
            channel=channel,
            external_id=external_id,
            chat=chat,
            name=name,
            profile=profile_data,
            language=language,
            blocked=False,
            reachable=True,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
    )


async def next_guest_number(session: AsyncSession) -> int:
    """Take the next guest number of this installation (inside the caller's transaction)."""
    if dialect_name(session) == "postgresql":
        number = await session.scalar(GUEST_NUMBER_SEQUENCE.next_value().select())
        assert number is not None, "nextval() always returns a number"
        return int(number)
    bumped = await session.exec(
        update(GuestCounter)
        .where(col(GuestCounter.id) == 1)
        .values(value=GuestCounter.value + 1)
        .returning(col(GuestCounter.value))
    )
    value = bumped.scalar_one_or_none()
    if value is not None:
        return int(value)
    # The counter row is seeded by the migration; recreate it if someone deleted it.
    highest = await session.scalar(select(func.coalesce(func.max(Customer.guest_number), 0)))
    value = int(highest or 0) + 1
    session.add(GuestCounter(id=1, value=value))
    await session.flush()
    return value


def upsert_would_change(
    customer: Customer, chat: str, name: str | None, profile: Mapping[str, Any] | Any | None
) -> bool:
    """Whether `upsert_customer` with these values would change the stored row."""
    if customer.name is None and customer.guest_number is None:
        return True
    return bool(_changes(customer, chat, *_given(name, profile)))


def _given(
    name: str | None, profile: Mapping[str, Any] | Any | None
) -> tuple[str | None, dict[str, Any] | None, Any]:
    """The name, profile and language an upsert was given, as it stores them."""
    name = name.strip() if isinstance(name, str) and name.strip() else None
    profile_data = _profile_dict(profile)
    return name, profile_data, (profile_data or {}).get("language")


def _changes(
    customer: Customer,
    chat: str,
    name: str | None,
    profile_data: dict[str, Any] | None,
    language: Any,
) -> dict[str, Any]:
    """The fields an upsert with these values sets on `customer` (a None name keeps the old)."""
    changes: dict[str, Any] = {}
    if name is not None and customer.name != name:
        changes["name"] = name
    if customer.chat != chat:
        changes["chat"] = chat
    if profile_data is not None and customer.profile != profile_data:
        changes["profile"] = profile_data
    if language and customer.language != language:
        changes["language"] = language
    return changes


async def find_customers(
    session: AsyncSession, channel: str, external_ids: Iterable[str]
) -> dict[str, Customer]:
    """The known customers of `channel` among these platform user ids, by user id."""
    ids = sorted(set(external_ids))
    if not ids:
        return {}
    result = await session.exec(_CUSTOMERS_OF_USERS, params={"channel": channel, "users": ids})
    return {customer.external_id: customer for customer in result.all()}


_CUSTOMERS_OF_USERS = (
    select(Customer)
    .where(
        Customer.channel == bindparam("channel"),
        col(Customer.external_id).in_(bindparam("users", expanding=True)),
    )
    .execution_options(populate_existing=True)
)


async def get_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer with this id, freshly read."""
    return await session.get(Customer, customer_id, populate_existing=True)


async def find_customer(session: AsyncSession, channel: str, external_id: str) -> Customer | None:
    """The customer known by (channel, platform user id), if any."""
    result = await session.exec(
        select(Customer).where(Customer.channel == channel, Customer.external_id == external_id)
    )
    return result.first()


async def set_customer_reachable(
    session: AsyncSession, customer_id: int, reachable: bool, reason: str | None = None
) -> bool:
    """Record whether messages can reach the customer (e.g. they blocked the bot)."""
    result = await session.exec(
        update(Customer)
        .where(col(Customer.id) == customer_id)
        .values(
            reachable=reachable,
            unreachable_reason=None if reachable else reason,
            updated_at=utcnow(),
        )
    )
    return result.rowcount == 1


async def set_customer_blocked(session: AsyncSession, customer_id: int, blocked: bool) -> bool:
    """Block (or unblock) a customer: the core ignores a blocked customer's messages."""
    result = await session.exec(
        update(Customer)
        .where(col(Customer.id) == customer_id)
        .values(blocked=blocked, updated_at=utcnow())
    )
    return result.rowcount == 1
