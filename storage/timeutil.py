"""Timezone-aware UTC time for the storage edge.

Every datetime the storage hands back is aware and in UTC, on SQLite as on PostgreSQL.
`UTCDateTime` is the column type that guarantees it: it stores UTC (naive UTC text on SQLite,
`timestamptz` on PostgreSQL) and always returns aware datetimes. Naive datetimes are refused
when written, because a naive value may be local time and would be stored wrong silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return `value` converted to aware UTC; a naive value is rejected with ValueError."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} given to the storage: "
            "pass an aware datetime (e.g. datetime.now(UTC))"
        )
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime column that stores UTC and always returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        aware = as_utc(value)
        if dialect.name == "sqlite":
            # SQLite keeps text without an offset; UTC everywhere keeps text order = time order.
            return aware.replace(tzinfo=None)
        return aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
