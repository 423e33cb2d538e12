"""SQLite commits are synced: an acknowledged webhook survives a power loss (issue 13)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import create_engine

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


@pytest.mark.parametrize("driver", ["sqlite", "sqlite+aiosqlite"])
async def test_a_new_sqlite_connection_syncs_every_commit(tmp_path, driver: str) -> None:
    if driver == "sqlite+aiosqlite":
        pytest.importorskip("aiosqlite")
    engine = create_engine(f"{driver}:///{tmp_path / 'bridge.db'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            synchronous = (await connection.execute(text("PRAGMA synchronous"))).scalar_one()
    finally:
        await engine.dispose()
    assert journal == "wal"
    assert synchronous == FULL
