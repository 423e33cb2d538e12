"""The async engine and session factory, for SQLite (default) and PostgreSQL.

Config files name the database with a plain URL (`sqlite:///bridge.db`,
`postgresql://user:pass@host/db`); `to_async_url` turns it into the async driver URL
(`sqlite+tbloop`, see storage/sqlite_loop.py, and `postgresql+asyncpg`). Sessions are
sqlmodel's `AsyncSession` (it adds `exec` to SQLAlchemy's) with `expire_on_commit=False`,
so rows stay readable after commit.

SQLite is tuned for one process with concurrent coroutines: WAL journal, a busy timeout, foreign
keys on, `synchronous=FULL`, and every transaction opened with `BEGIN IMMEDIATE`. FULL syncs the
WAL on every commit, so an acknowledged webhook survives a power loss (NORMAL syncs only at
checkpoints and may lose the last commits); the intake's group commit (bridge/core/group_commit.py)
stores many messages per commit, so it pays one sync per batch. `BEGIN IMMEDIATE` makes a
transaction take the write lock up front, so two coroutines never both read and then fail to
upgrade to writing ("database is locked"); they queue instead (sqlite_loop waits for the lock with
awaited sleeps, so the event loop runs on meanwhile). Keep transactions short: never await the
network inside one. A session that only reads opens with `reading(sessions)`: on SQLite its
transaction starts with a plain (deferred) `BEGIN`, a WAL reader that takes no lock, so reads
never queue behind the writers or each other (the widget reads twice per visitor message).

A SQLite database holds every customer's messages, so the files the bridge creates are its
user's only, whatever the umask: a missing folder is made 0700 and the database file 0600 just
before the first connection (`make_private_sqlite_file`, on the engine's `do_connect`); SQLite
gives the -wal and -shm files the database file's mode. Existing folders and files keep theirs.

PostgreSQL sessions ask the server to notice a silent client within seconds (TCP keepalives,
`tcp_user_timeout`) and to end a session left idle inside a transaction for 30 s
(`idle_in_transaction_session_timeout`): a process that is frozen or cut off in the middle of a
transaction then stops holding its row locks, so the other processes go on (no transaction of
ours waits on the network).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_loop

log = logging.getLogger(__name__)

Backend = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Connections a SQLite file database keeps open (and as many more for a burst).
SQLITE_POOL = 32
#: A connection execution option: this transaction only reads (`reading`).
READS_ONLY = "tb_reads_only"
#: Every commit synced to disk: a commit (an acknowledged webhook) survives a power loss.
SQLITE_SYNCHRONOUS = "FULL"

#: Server-side settings of every PostgreSQL connection: the server probes an idle client after
#: 2 s, every second, and ends the session after 3 unanswered probes (or 5 s of unacknowledged
#: data), so on a real network cut the server frees the session's locks about 5 s after the
#: last word.
PG_KEEPALIVES = {
    "tcp_keepalives_idle": "2",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "5000",
}
#: A transaction left idle this long (milliseconds) is ended by the server: one frozen
#: process cannot hold row locks (pacing, outbox) that every other process waits for.
PG_IDLE_IN_TRANSACTION_MS = 30_000

#: Modes of what the bridge creates for a SQLite database: the folder, the database file.
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

#: The aiosqlite driver: only for a URL that names it (the optional extra `aiosqlite`).
AIOSQLITE = "sqlite+aiosqlite"
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", AIOSQLITE, f"sqlite+{sqlite_loop.DRIVER}"}
_PG_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+psycopg2",
    "postgresql+psycopg",
    "postgresql+asyncpg",
    "postgresql+pg8000",
}


def _parse(url: str) -> URL:
    if not isinstance(url, str) or not url.strip():
        raise ValueError("database URL is empty: use e.g. sqlite:///bridge.db")
    try:
        return make_url(url.strip())
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r} ({exc})") from exc


def backend_name(url: str) -> Backend:
    """Return "sqlite" or "postgresql" for a config URL; ValueError for anything else."""
    driver = _parse(url).drivername
    if driver in _SQLITE_DRIVERS:
        return "sqlite"
    if driver in _PG_DRIVERS:
        return "postgresql"
    raise ValueError(
        f"unsupported database {driver!r}: use sqlite:///path.db or postgresql://user@host/db"
    )


def to_async_url(url: str) -> str:
    """Turn a config URL into the URL of the async driver (storage.sqlite_loop or asyncpg).

    An explicit `sqlite+aiosqlite` URL keeps aiosqlite (a thread per connection); that package
    is the optional extra `aiosqlite`, and the URL is refused clearly when it is missing."""
    parsed = _parse(url)
    if backend_name(url) == "sqlite":
        if parsed.drivername == AIOSQLITE:
            _require_aiosqlite()
        else:
            parsed = parsed.set(drivername=f"sqlite+{sqlite_loop.DRIVER}")
    else:
        parsed = parsed.set(drivername="postgresql+asyncpg")
        query = dict(parsed.query)
        if "sslmode" in query:  # libpq spelling; asyncpg calls it `ssl`
            query["ssl"] = query.pop("sslmode")
            parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)


def _require_aiosqlite() -> None:
    if importlib.util.find_spec("aiosqlite") is None:
        raise ValueError(
            f"{AIOSQLITE}:// needs the aiosqlite package, which is not installed: "
            "pip install 'talker-bridge[aiosqlite]', or use sqlite:///path.db (built in)"
        )


def sqlite_path(url: str) -> str | None:
    """The file path of a SQLite URL, or None for an in-memory database or another backend."""
    if backend_name(url) != "sqlite":
        return None
    database = _parse(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return database


def make_private_folders(folder: str | Path) -> None:
    """Create `folder` and any missing parent, each readable by this user only (0700 whatever
    the umask); folders that already exist keep their mode."""
    folder = Path(folder).expanduser()
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile: it is not ours to change
        os.chmod(path, PRIVATE_FOLDER_MODE)  # mkdir's mode is filtered by the umask


def make_private_sqlite_file(path: str | Path) -> None:
    """Create the SQLite file at `path` (and its missing folders) readable by this user only
    (0600 whatever the umask) unless it exists; SQLite opens an empty file as a new database."""
    path = Path(path).expanduser()
    if path.exists():
        return
    make_private_folders(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return  # created meanwhile (another process, or another connection of ours)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """Create the async engine for a config URL, tuned for its backend."""
    async_url = to_async_url(url)
    if backend_name(url) == "sqlite":
        path = sqlite_path(url)
        # A file database keeps SQLITE_POOL connections open: a connection beyond the pool is
        # closed when given back, and opening one costs its PRAGMAs (WAL) each time; the widget
        # holds one per request for its reads. An in-memory database has a single connection.
        plain_file = path is not None and not _is_uri(url)
        sizes = {"pool_size": SQLITE_POOL, "max_overflow": SQLITE_POOL} if plain_file else {}
        engine = create_async_engine(async_url, echo=echo, **sizes)
        _tune_sqlite(engine)
        if plain_file and path is not None:
            _create_privately(engine, path)
        return engine
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "pool_timeout": 30,
        "connect_args": {
            "timeout": 10,
            "server_settings": {
                **PG_KEEPALIVES,
                "idle_in_transaction_session_timeout": str(PG_IDLE_IN_TRANSACTION_MS),
            },
        },
    }
    return create_async_engine(async_url, echo=echo, **kwargs)


def _is_uri(url: str) -> bool:
    # `?uri=true`: the database is a SQLite URI (file:...?mode=...); SQLite opens it itself.
    return str(_parse(url).query.get("uri", "")).lower() in ("true", "1")


def _create_privately(engine: AsyncEngine, path: str) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        # Runs where the driver's connect runs, right before it would create the file.
        make_private_sqlite_file(path)


def _tune_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (the pysqlite default
        # would open transactions lazily and break savepoints and BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            # storage.sqlite_loop waits for locks itself, never blocking the event loop.
            on_loop = isinstance(dbapi_connection, sqlite_loop.LoopConnection)
            cursor.execute(f"PRAGMA busy_timeout={0 if on_loop else SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reads_only = connection.get_execution_options().get(READS_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A factory of sqlmodel AsyncSessions bound to `engine`, with expire_on_commit=False."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def reading(sessions: Callable[[], AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session of `sessions` for reads only (use as `async with`).

    On SQLite its transaction starts with a deferred `BEGIN` instead of `BEGIN IMMEDIATE`: it
    reads a snapshot of the WAL and takes no lock, so it never waits for the writers. It must
    not write: a write would try to take the write lock in the middle of the snapshot and fail
    when another transaction committed meanwhile. On PostgreSQL it is an ordinary session.
    """
    async with sessions() as session:
        await session.connection(execution_options={READS_ONLY: True})
        yield session


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query; False (logged) when it does not."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not healthy"; the reason goes to the log
        log.warning("database ping failed", exc_info=True)
        return False
    return True


def dialect_name(session: AsyncSession) -> Backend:
    """The backend a session talks to ("sqlite" or "postgresql")."""
    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported dialect {name!r}")
    return name  # type: ignore[return-value]
