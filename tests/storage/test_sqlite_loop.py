"""storage.sqlite_loop: SQLite on the event loop's thread waits for a writer's lock without
blocking the loop, and gives up with "database is locked" after its busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import sqlite_loop
from storage.db import create_engine, sqlite_path, to_async_url
from storage.migrate import upgrade_async


def hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    """Another process's writer, in a thread: BEGIN IMMEDIATE, hold, commit."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE guest_counter SET value = value + 100")
    held.set()
    time.sleep(seconds)
    connection.execute("COMMIT")
    connection.close()


async def test_config_urls_use_the_loop_driver(sqlite_url: str) -> None:
    assert to_async_url(sqlite_url).startswith(f"sqlite+{sqlite_loop.DRIVER}:")
    engine = create_engine(sqlite_url)
    try:
        assert engine.dialect.driver == sqlite_loop.DRIVER
    finally:
        await engine.dispose()


async def test_a_locked_database_is_waited_for_while_the_loop_runs_on(sqlite_url: str) -> None:
    await upgrade_async(sqlite_url)
    path = sqlite_path(sqlite_url)
    assert path is not None
    held = threading.Event()
    writer = threading.Thread(target=hold_write_lock, args=(path, 0.5, held))
    writer.start()
    await asyncio.to_thread(held.wait, 5)

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    engine = create_engine(sqlite_url)
    ticking = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        async with engine.begin() as connection:  # BEGIN IMMEDIATE: waits for the writer
            await connection.execute(text("UPDATE guest_counter SET value = value + 1"))
        waited = time.monotonic() - started
        value = await _counter(engine)
    finally:
        ticking.cancel()
        await engine.dispose()
        writer.join()
    assert waited >= 0.3  # it did wait for the other writer…
    assert ticks >= 15  # …and the event loop kept running meanwhile (~0.5 s of 10 ms ticks)
    assert value >= 101  # both writes are in


async def test_a_lock_held_past_the_busy_timeout_fails_as_locked(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await upgrade_async(sqlite_url)
    path = sqlite_path(sqlite_url)
    assert path is not None
    monkeypatch.setattr(sqlite_loop, "BUSY_TIMEOUT", 0.2)
    held = threading.Event()
    writer = threading.Thread(target=hold_write_lock, args=(path, 1.0, held))
    writer.start()
    await asyncio.to_thread(held.wait, 5)
    engine = create_engine(sqlite_url)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE guest_counter SET value = value + 1"))
    finally:
        await engine.dispose()
        writer.join()


async def _counter(engine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT value FROM guest_counter WHERE id = 1")))
