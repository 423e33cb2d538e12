"""Storage fixtures: a migrated database on each backend, an engine and a session factory.

`pg_server` (tests/conftest.py) probes PostgreSQL with `asyncio.run`, which fails when it is
first requested from inside a running loop (by the async `db_url` fixture) and would skip every
PostgreSQL case; the sync autouse fixture below requests it first, outside any loop, for the
tests that need PostgreSQL. (Shared with the outbox tests in this folder.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async


@pytest.fixture(autouse=True)
def _probe_postgres_outside_the_loop(request: pytest.FixtureRequest) -> None:
    callspec = getattr(request.node, "callspec", None)
    wants_pg = "pg_url" in request.fixturenames or (
        callspec is not None and callspec.params.get("db_url") == "postgresql"
    )
    if wants_pg:
        request.getfixturevalue("pg_server")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated database (SQLite, then PostgreSQL)."""
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on `engine`."""
    return session_factory(engine)
