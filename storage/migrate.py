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

A database already at the newest revision (every start but the first after an upgrade) is
recognised with one read of `alembic_version` against the head named in the migration files
(`code_head`, read without importing them), and Alembic is not imported at all: importing and
running it costs a service about 12 MB of memory it would keep for its whole life (issue 16).
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine, make_private_folders, sqlite_path
from storage.leader_lock import lock_key

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"

T = TypeVar("T")

#: The advisory lock every process takes before migrating (PostgreSQL).
MIGRATION_LOCK = "talker-bridge:migrate"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at storage/migrations, optionally bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the code knows (as Alembic reads it)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


@cache
def code_head() -> str | None:
    """The newest revision of the migration files, read as text (Alembic is not imported).

    Each file's module-level `revision` and `down_revision` are read with `ast`; the head is
    the one revision no other file revises. None when that is not one revision (branches, a
    file this reading does not understand): the caller then leaves the question to Alembic.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS_DIR.glob("*.py"):
        values = _module_constants(path, ("revision", "down_revision"))
        revision = values.get("revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        down = values.get("down_revision")
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, tuple | list):
            revised.update(str(item) for item in down)
        elif down is not None:
            return None
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _module_constants(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values a module assigns to `names` at its top level."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                values[target.id] = ast.literal_eval(value)
    return values


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` (a config URL) to `revision` (default: the newest).

    Upgrading to the head a database is already at only reads its version (no Alembic)."""
    path = sqlite_path(url)
    if path is not None:
        await asyncio.to_thread(_make_parent_dir, path)
    engine = create_engine(url)
    try:
        head = await asyncio.to_thread(code_head) if revision == "head" else None
        if head is not None:
            async with engine.connect() as connection:
                if await connection.run_sync(_versions) == [head]:
                    return
        async with engine.begin() as connection:
            await serialize_migrations(connection)
            await connection.run_sync(lambda sync: _alembic_upgrade(sync, revision))
    finally:
        await engine.dispose()


def _versions(connection: Connection) -> list[str] | None:
    """The revisions `alembic_version` holds; None when the database has no such table."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return list(connection.scalars(text("SELECT version_num FROM alembic_version")))


def _alembic_upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


async def downgrade_async(url: str, revision: str) -> None:
    """Bring the database at `url` back to the older `revision` (tests; manual rollbacks)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await serialize_migrations(connection)
            await connection.run_sync(lambda sync: _alembic_downgrade(sync, revision))
    finally:
        await engine.dispose()


def _alembic_downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)


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
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


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
    "code_head",
    "current_revision",
    "current_revision_async",
    "head_revision",
    "serialize_migrations",
    "upgrade",
    "upgrade_async",
]
