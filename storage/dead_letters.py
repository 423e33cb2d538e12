"""Dead letters: updates and webhook bodies that failed deterministically, kept to be replayed.

A row holds the platform update as it came (raw JSON text), the error it raised, and how often
it failed. The same update failing again (a webhook redelivered, a replay that fails) adds to
its open row instead of adding a row. `replayed_at` is set once a replay stored it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeadLetter
from storage.timeutil import utcnow

#: Longest error text kept (a traceback's last lines are enough to find the bug).
MAX_ERROR_CHARS = 8000


async def add_dead_letter(
    session: AsyncSession, source: str, key: str, payload: str, error: str
) -> DeadLetter:
    """Record that `source`'s update `key` failed for good; an open row of it counts one more."""
    error = error[-MAX_ERROR_CHARS:]
    open_row = (
        await session.exec(
            select(DeadLetter)
            .where(
                DeadLetter.source == source,
                DeadLetter.key == key,
                col(DeadLetter.replayed_at).is_(None),
            )
            .order_by(col(DeadLetter.id).desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    if open_row is not None:
        open_row.attempts += 1
        open_row.error = error
        open_row.payload = payload
        session.add(open_row)
        await session.flush()
        return open_row
    row = DeadLetter(source=source, key=key, payload=payload, error=error)
    session.add(row)
    await session.flush()
    return row


async def open_dead_letters(
    session: AsyncSession, ids: Sequence[int] | None = None
) -> list[DeadLetter]:
    """Dead letters not replayed yet, oldest first (only those of `ids` when given)."""
    statement = select(DeadLetter).where(col(DeadLetter.replayed_at).is_(None))
    if ids is not None:
        statement = statement.where(col(DeadLetter.id).in_(list(ids)))
    return list((await session.exec(statement.order_by(col(DeadLetter.id)))).all())


async def dead_letter(session: AsyncSession, letter_id: int) -> DeadLetter | None:
    """One dead letter by id (replayed or not)."""
    return await session.get(DeadLetter, letter_id, populate_existing=True)


async def mark_replayed(session: AsyncSession, letter_id: int) -> None:
    """The dead letter was fed again and stored."""
    row = await session.get(DeadLetter, letter_id, with_for_update=True)
    if row is not None and row.replayed_at is None:
        row.replayed_at = utcnow()
        session.add(row)


async def record_replay_failure(session: AsyncSession, letter_id: int, error: str) -> None:
    """A replay failed again: the row stays open with the new error, one more attempt."""
    row = await session.get(DeadLetter, letter_id, with_for_update=True)
    if row is not None:
        row.attempts += 1
        row.error = error[-MAX_ERROR_CHARS:]
        session.add(row)


async def open_counts(session: AsyncSession) -> dict[str, int]:
    """How many dead letters wait for a replay, by source."""
    rows = await session.exec(
        select(DeadLetter.source, func.count())
        .where(col(DeadLetter.replayed_at).is_(None))
        .group_by(DeadLetter.source)
    )
    return {source: int(count) for source, count in rows.all()}
