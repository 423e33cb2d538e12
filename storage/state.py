"""Small durable state: processed platform event ids (dedup) and a key-value table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import insert_skipping_duplicates, upsert_insert
from storage.models import KeyValue, ProcessedEvent
from storage.timeutil import as_utc, utcnow


async def mark_event_processed(session: AsyncSession, source: str, event_id: str | int) -> bool:
    """Record a platform event id; True the first time, False for a repeat (drop it).

    Race-safe: of two transactions marking the same event, one gets True.
    """
    return str(event_id) in await mark_events_processed(session, source, [event_id])


#: The table itself: a Core INSERT of many rows skips the ORM's per-row bookkeeping.
_PROCESSED = ProcessedEvent.__table__  # type: ignore[attr-defined]


async def mark_events_processed(
    session: AsyncSession, source: str, event_ids: Sequence[str | int]
) -> set[str]:
    """`mark_event_processed` for many ids in one statement; the ids seen for the first time."""
    if not source:
        raise ValueError("source must be a non-empty string")
    ids = list(dict.fromkeys(str(event_id) for event_id in event_ids))
    if not ids:
        return set()
    now = utcnow()
    inserted = await session.exec(  # one cached statement, rows sent as "insertmanyvalues"
        insert_skipping_duplicates(
            session, _PROCESSED, ("source", "event_id"), _PROCESSED.c.event_id
        ),
        params=[{"source": source, "event_id": event_id, "created_at": now} for event_id in ids],
    )
    return set(inserted.scalars().all())


async def prune_processed_events(session: AsyncSession, older_than: datetime) -> int:
    """Forget event ids recorded before `older_than`; returns how many were removed."""
    result = await session.exec(
        delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < as_utc(older_than))
    )
    return int(result.rowcount or 0)


async def kv_get(session: AsyncSession, key: str, default: str | None = None) -> str | None:
    """The value stored under `key`, or `default`."""
    row = await session.get(KeyValue, key, populate_existing=True)
    return row.value if row is not None else default


async def kv_set(session: AsyncSession, key: str, value: str) -> None:
    """Store `value` under `key` (insert or replace)."""
    if not isinstance(value, str):
        raise TypeError(f"kv values are strings; got {type(value).__name__} for {key!r}")
    now = utcnow()
    statement = upsert_insert(session, KeyValue).values(key=key, value=value, updated_at=now)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": now}
        )
    )
