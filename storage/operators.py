"""Operators: Telegram users seen acting in an operators' group."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import Operator, OperatorGroup
from storage.timeutil import utcnow


async def upsert_operator(
    session: AsyncSession,
    user_id: int,
    name: str,
    username: str | None = None,
    language: str | None = None,
) -> Operator:
    """Create or refresh an operator's name, username and language; returns the row."""
    values = {"name": name, "username": username}
    if language is not None:
        values["language"] = language
    await session.exec(
        upsert_insert(session, Operator)
        .values(id=user_id, private_chat_started=False, created_at=utcnow(), **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )
    operator = await get_operator(session, user_id)
    assert operator is not None
    return operator


async def get_operator(session: AsyncSession, user_id: int) -> Operator | None:
    """The operator with this Telegram user id, freshly read."""
    return await session.get(Operator, user_id, populate_existing=True)


async def set_private_chat_started(
    session: AsyncSession, user_id: int, started: bool = True
) -> None:
    """Record that the operator started (or blocked) the bot in private: pings can reach them."""
    operator = await get_operator(session, user_id)
    if operator is None:
        raise LookupError(f"operator {user_id} is unknown; upsert_operator first")
    operator.private_chat_started = started
    session.add(operator)
    await session.flush()


async def operators_reachable_in_private(session: AsyncSession) -> list[Operator]:
    """Operators who started the bot in private, by id."""
    result = await session.exec(
        select(Operator).where(col(Operator.private_chat_started)).order_by(col(Operator.id))
    )
    return list(result.all())


async def operator_groups(session: AsyncSession, user_id: int) -> set[str]:
    """The operators' groups (config names) this operator was seen to belong to."""
    result = await session.exec(
        select(OperatorGroup.group).where(OperatorGroup.operator_id == user_id)
    )
    return set(result.all())


async def add_operator_groups(session: AsyncSession, user_id: int, groups: set[str]) -> None:
    """Record that the operator belongs to `groups` (groups already known stay as they are)."""
    missing = groups - await operator_groups(session, user_id)  # mostly none: a read only
    now = utcnow()
    for group in sorted(missing):
        await session.exec(
            upsert_insert(session, OperatorGroup)
            .values(operator_id=user_id, group=group, created_at=now)
            .on_conflict_do_nothing(index_elements=["operator_id", "group"])
        )
