"""Shared fixtures: a throw-away PostgreSQL database per test session, and the CI rule.

PostgreSQL tests run against the real server (TB_TEST_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test). Outside CI an unreachable server skips them;
with CI=true it fails them, so a missing server can never turn CI green.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

PG_ADMIN_URL = os.environ.get("TB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def _pg_admin_connect():
    import asyncpg

    return await asyncpg.connect(PG_ADMIN_URL, timeout=5)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of a reachable PostgreSQL server, or skip (fail in CI)."""
    import asyncio

    async def probe() -> None:
        conn = await _pg_admin_connect()
        await conn.close()

    def probe_in_thread() -> None:
        # A thread of its own: this fixture may be resolved from inside a running event loop
        # (an async fixture asking for it), where asyncio.run() is not allowed.
        errors: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(probe())
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if errors:
            raise errors[0]

    try:
        probe_in_thread()
    except Exception as exc:  # any failure to connect means "no server here"
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc!r}"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    yield PG_ADMIN_URL


async def _create_database(admin_url: str) -> str:
    name = f"tb_test_{uuid.uuid4().hex[:12]}"
    conn = await _pg_admin_connect()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def _drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    conn = await _pg_admin_connect()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    url = await _create_database(pg_server)
    yield url
    await _drop_database(url)


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
    url = await _create_database(request.getfixturevalue("pg_server"))
    yield url
    await _drop_database(url)
