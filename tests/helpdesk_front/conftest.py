"""Fixtures of the helpdesk front tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async


@pytest.fixture
async def sessions(pg_server: str, db_url: str) -> AsyncIterator[Any]:
    """A session factory on a fresh, migrated database: SQLite, then PostgreSQL."""
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()
