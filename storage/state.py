"""Small durable state: processed platform event ids (dedup) and a key-value table.

A processed id counts for `PROCESSED_SCOPE` only: a platform redelivers an event within a day
or so, while Telegram may reuse an update id after a week without updates (the ids restart
at a random value), and such an id is a new update. An id recorded longer ago is recorded
again and handled as new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal_column
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import KeyValue, ProcessedEvent
from storage.timeutil import as_utc, utcnow


async def mark_event_processed(session: AsyncSession, source: str, event_id: str | int) -> bool:
    """Record a platform event id; True the first time, False for a repeat (drop it).

    Race-safe: of two transactions marking the same event, one gets True.
    """
    return str(event_id) in await mark_events_processed(session, source, [event_id])


#: How long a processed event id keeps a repeat out (see the module docstring).
PROCESSED_SCOPE = timedelta(days=6)

#: The table itself: a Core INSERT of many rows skips the ORM's per-row bookkeeping.
_PROCESSED = ProcessedEvent.__table__  # type: ignore[attr-defined]
_MARK_STATEMENTS: dict[tuple[str, timedelta], object] = {}


def _mark_statement(session: AsyncSession, scope: timedelta) -> object:
    """`INSERT ... ON CONFLICT DO UPDATE ... WHERE the old row is out of scope RETURNING id`:
    returns the ids recorded now (new, or seen only before the scope). Built once per backend
    and scope; the scope is computed in SQL from the new row's time (no parameter per row)."""
    from storage.db import dialect_name

    key = (dialect_name(session), scope)
    statement = _MARK_STATEMENTS.get(key)
    if statement is None:
        insert = upsert_insert(session, _PROCESSED)
        seconds = int(scope.total_seconds())
        if key[0] == "postgresql":
            scope_start = insert.excluded.created_at - literal_column(
                f"interval '{seconds} seconds'"
            )
        else:  # naive UTC text; datetime() gives the same shape, so text order is time order
            scope_start = func.datetime(insert.excluded.created_at, f"-{seconds} seconds")
        statement = insert.on_conflict_do_update(
            index_elements=["source", "event_id"],
            set_={"created_at": insert.excluded.created_at},
            where=_PROCESSED.c.created_at < scope_start,
        ).returning(_PROCESSED.c.event_id)
        _MARK_STATEMENTS[key] = statement
    return statement


async def mark_events_processed(
    session: AsyncSession,
    source: str,
    event_ids: Sequence[str | int],
    *,
    scope: timedelta = PROCESSED_SCOPE,
) -> set[str]:
    """`mark_event_processed` for many ids in one statement; the ids seen for the first time
    (or seen only longer than `scope` ago)."""
    if not source:
        raise ValueError("source must be a non-empty string")
    ids = list(dict.fromkeys(str(event_id) for event_id in event_ids))
    if not ids:
        return set()
    now = utcnow()
    inserted = await session.exec(  # one cached statement, rows sent as "insertmanyvalues"
        _mark_statement(session, scope),  # type: ignore[call-overload]
        params=[{"source": source, "event_id": event_id, "created_at": now} for event_id in ids],
    )
    return set(inserted.scalars().all())


async def event_processed(
    session: AsyncSession, source: str, event_id: str | int, *, scope: timedelta = PROCESSED_SCOPE
) -> bool:
    """Whether the event id was recorded (within `scope`), without recording it."""
    row = await session.get(ProcessedEvent, (source, str(event_id)), populate_existing=True)
    return row is not None and as_utc(row.created_at) >= utcnow() - scope


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


async def kv_get_with_time(session: AsyncSession, key: str) -> tuple[str, datetime] | None:
    """The value stored under `key` and when it was stored, or None."""
    row = await session.get(KeyValue, key, populate_existing=True)
    return (row.value, row.updated_at) if row is not None else None


async def kv_set(
    session: AsyncSession, key: str, value: str, *, now: datetime | None = None
) -> None:
    """Store `value` under `key` (insert or replace); `now`: the time stored with it."""
    if not isinstance(value, str):
        raise TypeError(f"kv values are strings; got {type(value).__name__} for {key!r}")
    now = as_utc(now) if now is not None else utcnow()
    statement = upsert_insert(session, KeyValue).values(key=key, value=value, updated_at=now)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": now}
        )
    )
