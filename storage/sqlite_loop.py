"""SQLite for the async engine without a thread hop per call: the `sqlite+tbloop` dialect.

aiosqlite runs every DBAPI call (cursor, execute, fetch, close, commit) in a worker thread and
hands the result back through the event loop. On this workload a statement costs microseconds
in SQLite and 70-150 µs (far more under load, waiting for the GIL) for each hand-off, and the
ORM makes about eight hand-offs per statement: the intake was bound by hand-offs, not by SQLite
(docs/performance.md, "ingest").

This dialect calls the standard `sqlite3` module directly on the event loop's thread, inside
SQLAlchemy's greenlet, exactly as the synchronous pysqlite dialect does. That is safe because a
statement of this service is short (indexed lookups and small writes; a commit syncs the WAL once,
see storage/db.py) and because it never waits for a lock on the loop: the connection's busy timeout
is 0, and a "database is locked" answer (another process, or another coroutine's transaction, holds
the write lock) is retried after an `await`ed sleep, so other coroutines run meanwhile — up to
`BUSY_TIMEOUT` seconds, then the error is raised as aiosqlite would raise it after its busy
timeout.

Everything else is SQLAlchemy's pysqlite dialect: SQL compilation, types, the `regexp`
function, isolation levels. Connections are pooled per engine (AsyncAdaptedQueuePool for a
file, StaticPool for an in-memory database) and used by one coroutine at a time.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, AdaptedConnection
from sqlalchemy.util.concurrency import await_, in_greenlet

#: The driver name in URLs: `sqlite+tbloop:///path.db`.
DRIVER = "tbloop"
#: How long a statement waits for another writer's lock before "database is locked" (s).
BUSY_TIMEOUT = 30.0
_FIRST_WAIT, _LONGEST_WAIT = 0.001, 0.05

T = TypeVar("T")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "database is locked" in message or "database table is locked" in message


async def _done() -> None:
    return None


def _retrying(call: Callable[[], T]) -> T:
    """Run one sqlite3 call; while the database is locked, sleep (yielding) and try again.

    A statement that answers SQLITE_BUSY had no effect, so repeating it is safe. Each call
    also passes through the greenlet's parent once (an await that completes at once, no turn
    of the event loop): SQLAlchemy's AsyncConnection.execute insists that its DBAPI awaited.
    """
    if in_greenlet():
        await_(_done())
    deadline = None
    wait = _FIRST_WAIT
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            now = time.monotonic()
            deadline = deadline or now + BUSY_TIMEOUT
            if now >= deadline:
                raise
        if in_greenlet():
            await_(asyncio.sleep(wait))
        else:  # outside the async engine (garbage collection, a sync caller): plain sleep
            time.sleep(wait)
        wait = min(wait * 2, _LONGEST_WAIT)


class LoopCursor:
    """A DBAPI cursor over a sqlite3 cursor; execute retries while the database is locked."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def execute(self, operation: str, parameters: Any = ()) -> LoopCursor:
        _retrying(lambda: self._cursor.execute(operation, parameters or ()))
        return self

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> LoopCursor:
        _retrying(lambda: self._cursor.executemany(operation, seq_of_parameters))
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async result hook; rows stay readable, nothing to hand back."""
        return None

    def setinputsizes(self, *sizes: Any) -> None:
        return None

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        return None

    def __iter__(self) -> Any:
        return iter(self._cursor)


class LoopConnection(AdaptedConnection):
    """The DBAPI connection the pool holds: a sqlite3 connection used on the loop's thread."""

    __slots__ = ()

    # AdaptedConnection types its driver connection as an asyncio one (awaitable commit and
    # rollback); this dialect adapts a plain sqlite3 connection, called on the loop's thread.
    _connection: sqlite3.Connection  # type: ignore[assignment]

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def cursor(self, *args: Any, **kwargs: Any) -> LoopCursor:
        return LoopCursor(self._connection.cursor())

    def execute(self, operation: str, parameters: Any = ()) -> LoopCursor:
        return self.cursor().execute(operation, parameters)

    def commit(self) -> None:
        _retrying(self._connection.commit)

    def rollback(self) -> None:
        self._connection.rollback()

    def close(self) -> None:
        self._connection.close()

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        # typeshed allows only None and three level names; sqlite3 also takes "" (deferred),
        # which pysqlite's dialect sets when leaving autocommit.
        self._connection.isolation_level = value  # type: ignore[assignment]

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction


class LoopDBAPI:
    """The DBAPI "module" of the dialect: sqlite3's names, and a `connect` that adapts."""

    paramstyle = "qmark"

    def __init__(self) -> None:
        self.sqlite = sqlite3
        for name in (
            "DatabaseError",
            "DataError",
            "Error",
            "IntegrityError",
            "InterfaceError",
            "InternalError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "Warning",
            "sqlite_version",
            "sqlite_version_info",
            "version",
            "version_info",
            "PARSE_COLNAMES",
            "PARSE_DECLTYPES",
            "Binary",
        ):
            if hasattr(sqlite3, name):
                setattr(self, name, getattr(sqlite3, name))

    def connect(self, *args: Any, **kwargs: Any) -> LoopConnection:
        kwargs["check_same_thread"] = False  # closed by the pool, maybe from another thread
        kwargs["timeout"] = 0  # never wait for a lock on the event loop: _retrying waits
        return LoopConnection(sqlite3.connect(*args, **kwargs))


class SQLiteDialect_tbloop(SQLiteDialect_pysqlite):
    """pysqlite's dialect, marked async (for create_async_engine), over LoopDBAPI."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = False
    has_terminate = False

    @classmethod
    def import_dbapi(cls) -> Any:
        return LoopDBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection._connection


dialect = SQLiteDialect_tbloop

registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_tbloop")
