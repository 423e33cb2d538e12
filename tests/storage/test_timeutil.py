"""Datetimes are aware UTC on read-back on both backends; naive ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from storage.models import OutboxItem, Pacing
from storage.timeutil import as_utc, utcnow


async def test_datetimes_read_back_aware_in_utc(sessions) -> None:
    moscow = timezone(timedelta(hours=3))
    written = datetime(2025, 3, 1, 15, 30, 5, 123456, tzinfo=moscow)
    async with sessions() as session:
        session.add(Pacing(destination="tg:-100", next_at=written, tokens=1.5))
        await session.commit()
    async with sessions() as session:
        row = (await session.exec(select(Pacing))).one()
    assert row.next_at.tzinfo is not None
    assert row.next_at.utcoffset() == timedelta(0)
    assert row.next_at == written
    assert row.next_at.hour == 12
    assert row.updated_at.tzinfo is not None


async def test_comparisons_in_queries_respect_utc_order(sessions) -> None:
    now = utcnow()
    async with sessions() as session:
        for offset in (-60, 60):
            session.add(
                OutboxItem(
                    platform="telegram",
                    destination="tg:1",
                    lane="tg:1",
                    kind="send_message",
                    not_before=now + timedelta(seconds=offset),
                )
            )
        await session.commit()
    # The same instant written in another zone must select the same rows.
    probe = now.astimezone(timezone(timedelta(hours=-5)))
    async with sessions() as session:
        due = (await session.exec(select(OutboxItem).where(OutboxItem.not_before <= probe))).all()
    assert len(due) == 1
    assert due[0].not_before < now


async def test_naive_datetimes_are_refused_when_written(sessions) -> None:
    async with sessions() as session:
        session.add(Pacing(destination="tg:-100", next_at=datetime(2025, 1, 1), tokens=0))
        with pytest.raises(StatementError, match="naive datetime"):
            await session.commit()


def test_as_utc_converts_aware_and_rejects_naive() -> None:
    assert as_utc(datetime(2025, 1, 1, 3, tzinfo=timezone(timedelta(hours=3)))) == datetime(
        2025, 1, 1, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2025, 1, 1))
