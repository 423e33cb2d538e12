"""Shared fixtures: a throw-away PostgreSQL database per test, and the CI rule.

PostgreSQL tests run against a real server: the one at TB_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test) when it answers, otherwise a throwaway cluster the
suite starts itself with Debian's binaries (tests/support/pg_cluster.py) and deletes at the
end of the session. When neither works, outside CI the tests skip; with CI=true they fail, so
a missing server can never turn CI green.

Tests that restart or stop PostgreSQL use `pg_restartable`: always a cluster of the suite's
own, never the machine's service.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from tests.support.pg_cluster import PgCluster

PG_ADMIN_URL = os.environ.get("TB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def _pg_admin_connect(admin_url: str = PG_ADMIN_URL):
    import asyncpg

    return await asyncpg.connect(admin_url, timeout=5)


def _run_in_thread(coroutine_factory) -> None:
    """Run a coroutine to completion in a thread of its own: this may be called from inside a
    running event loop (an async fixture asking for a sync one), where asyncio.run() fails."""
    import asyncio

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine_factory())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _unavailable(message: str) -> NoReturn:
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


def _start_cluster() -> PgCluster:
    from tests.support.pg_cluster import PgCluster

    cluster = PgCluster()
    try:
        cluster.start()
    except Exception:
        cluster.destroy()
        raise
    return cluster


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of a PostgreSQL server: TB_TEST_POSTGRES_URL when it answers, else a
    throwaway cluster started for this session; skip (fail in CI) when neither works."""

    async def probe() -> None:
        conn = await _pg_admin_connect()
        await conn.close()

    try:
        _run_in_thread(probe)
    except Exception as exc:  # any failure to connect means "no server here"
        unreachable = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc!r}"
    else:
        yield PG_ADMIN_URL
        return
    try:
        cluster = _start_cluster()
    except Exception as exc:
        _unavailable(f"{unreachable}; starting a throwaway cluster failed too: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def pg_restartable() -> Iterator[PgCluster]:
    """A PostgreSQL cluster the tests may stop, start and restart (`restart()`, `stop()`,
    `start()`, `url`): always a throwaway one started by the suite, never the machine's own
    service. Tests leave it running (`start()` is a no-op on a running cluster)."""
    try:
        cluster = _start_cluster()
    except Exception as exc:
        _unavailable(f"cannot start a throwaway PostgreSQL cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.destroy()


async def _create_database(admin_url: str) -> str:
    name = f"tb_test_{uuid.uuid4().hex[:12]}"
    conn = await _pg_admin_connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def _drop_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    name = url.rpartition("/")[2]
    conn = await _pg_admin_connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    url = await _create_database(pg_server)
    yield url
    await _drop_database(url, pg_server)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite database file for one test."""
    return f"sqlite:///{tmp_path / 'bridge.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """Run a test on both backends: a fresh SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bridge.db'}"
        return
    admin_url = request.getfixturevalue("pg_server")
    url = await _create_database(admin_url)
    yield url
    await _drop_database(url, admin_url)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[object]:
    """A session factory on `db_url`'s database, migrated (both backends); a test file's own
    `sessions` fixture takes precedence."""
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade_async

    await upgrade_async(db_url)
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()
