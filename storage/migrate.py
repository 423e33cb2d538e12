"""Bring a database to the newest schema with Alembic, on SQLite and PostgreSQL.

`upgrade_async(url)` runs Alembic on the async engine through `connection.run_sync`, in one
transaction (both backends have transactional DDL), so a failed migration leaves nothing
half-done. `upgrade(url)` is the synchronous entry; it also works when called from a thread
that already runs an event loop. Running it again on an up-to-date database changes nothing.

Processes started together (replicas in an orchestrator) migrate one at a time: on PostgreSQL the
migration's transaction first takes a transaction-level advisory lock (`MIGRATION_LOCK`), so a
second process waits there, before Alembic looks at `alembic_version`, and then finds the
database up to date; the lock ends with the transaction, also when a process dies. On SQLite the
transaction opens with `BEGIN IMMEDIATE` (storage/db.py), which serializes the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine, make_private_folders, sqlite_path
from storage.leader_lock import lock_key

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")

#: The advisory lock every process takes before migrating (PostgreSQL).
MIGRATION_LOCK = "talker-bridge:migrate"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at storage/migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` (a config URL) to `revision` (default: the newest)."""
    path = sqlite_path(url)
    if path is not None:
        await asyncio.to_thread(_make_parent_dir, path)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await serialize_migrations(connection)
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()


async def downgrade_async(url: str, revision: str) -> None:
    """Bring the database at `url` back to the older `revision` (tests; manual rollbacks)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await serialize_migrations(connection)
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), revision)
            )
    finally:
        await engine.dispose()


async def serialize_migrations(connection: AsyncConnection) -> None:
    """Wait until no other process migrates this database; hold that until the transaction ends.

    PostgreSQL: `pg_advisory_xact_lock` in the migration's own transaction (released at commit
    or rollback, or when the connection dies). SQLite: nothing to do, `BEGIN IMMEDIATE` holds
    the database's write lock already.
    """
    if connection.dialect.name != "postgresql":
        return
    key = lock_key(MIGRATION_LOCK)
    got = await connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
    if got:
        return
    log.info("another process is migrating the database; waiting for it")
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _make_parent_dir(path: str) -> None:
    make_private_folders(Path(path).expanduser().parent)


def _file_exists(path: str) -> bool:
    return Path(path).expanduser().exists()


async def current_revision_async(url: str) -> str | None:
    """The revision the database at `url` is at; None for a database never migrated."""
    path = sqlite_path(url)
    if path is not None and not await asyncio.to_thread(_file_exists, path):
        return None  # do not create the file (or fail on its missing folder) just to look
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous `upgrade_async`; safe to call with or without a running event loop."""
    _run_sync(upgrade_async(url, revision))


def current_revision(url: str) -> str | None:
    """Synchronous `current_revision_async`."""
    return _run_sync(current_revision_async(url))


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A loop is running in this thread: run on a private loop in a worker thread instead.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


__all__ = [
    "MIGRATIONS_DIR",
    "MIGRATION_LOCK",
    "alembic_config",
    "current_revision",
    "current_revision_async",
    "head_revision",
    "serialize_migrations",
    "upgrade",
    "upgrade_async",
]
