"""The engine edge: URL translation, backend detection, health check, SQLite tuning."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import backend_name, create_engine, ping, sqlite_path, to_async_url
from storage.models import Conversation


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///bridge.db", "sqlite+tbloop:///bridge.db"),
        ("sqlite:////var/lib/tb/bridge.db", "sqlite+tbloop:////var/lib/tb/bridge.db"),
        ("sqlite://", "sqlite+tbloop://"),
        ("sqlite+aiosqlite:///bridge.db", "sqlite+aiosqlite:///bridge.db"),
        ("postgresql://u:p%40ss@db:5432/tb", "postgresql+asyncpg://u:p%40ss@db:5432/tb"),
        ("postgres://u@db/tb", "postgresql+asyncpg://u@db/tb"),
        ("postgresql+psycopg2://u@db/tb", "postgresql+asyncpg://u@db/tb"),
        ("postgresql://u@db/tb?sslmode=require", "postgresql+asyncpg://u@db/tb?ssl=require"),
    ],
)
def test_config_urls_become_async_driver_urls(url: str, expected: str) -> None:
    assert to_async_url(url) == expected


def test_backend_name_of_config_urls() -> None:
    assert backend_name("sqlite:///x.db") == "sqlite"
    assert backend_name("postgresql://u@h/db") == "postgresql"
    assert backend_name("postgres://u@h/db") == "postgresql"


def test_an_aiosqlite_url_without_the_package_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ValueError, match=r"talker-bridge\[aiosqlite\].*sqlite:///"):
        to_async_url("sqlite+aiosqlite:///bridge.db")
    assert to_async_url("sqlite:///bridge.db") == "sqlite+tbloop:///bridge.db"


@pytest.mark.parametrize("url", ["", "bridge.db", "mysql://u@h/db", "   "])
def test_unsupported_or_malformed_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match=r"database|URL"):
        to_async_url(url)


def test_sqlite_path_only_for_files() -> None:
    assert sqlite_path("sqlite:///data/bridge.db") == "data/bridge.db"
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql://u@h/db") is None


async def test_ping_answers_true_for_a_live_database(engine) -> None:
    assert await ping(engine) is True


async def test_ping_answers_false_when_the_server_is_down() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:1/none")
    try:
        assert await ping(engine) is False
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    from storage.migrate import upgrade_async

    await upgrade_async(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
            # Lock waits happen in storage.sqlite_loop, with the event loop free meanwhile.
            assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 0
    finally:
        await engine.dispose()


async def test_a_conversation_of_an_unknown_customer_is_refused(sessions) -> None:
    async with sessions() as session:
        session.add(Conversation(customer_id=424242, group="support"))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_a_reading_session_reads_while_a_writer_holds_the_sqlite_lock(
    sqlite_url: str,
) -> None:
    from storage.db import reading, session_factory
    from storage.migrate import upgrade_async
    from storage.models import Customer

    await upgrade_async(sqlite_url)
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            session.add(Customer(channel="site:w", external_id="committed", chat="committed"))
        async with sessions() as writer:
            # BEGIN IMMEDIATE: the writer holds the write lock until it commits
            writer.add(Customer(channel="site:w", external_id="pending", chat="pending"))
            await writer.flush()
            # an ordinary session would wait here for the writer, in this very coroutine, until
            # "database is locked" (after 30 s); a reading one reads the last commit at once
            async with reading(sessions) as reader:
                rows = await reader.exec(text("SELECT external_id FROM customers"))
                seen = list(rows.scalars().all())
            await writer.commit()
        assert seen == ["committed"]
    finally:
        await engine.dispose()
