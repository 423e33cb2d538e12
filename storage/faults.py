"""Which database errors mean "the database is unreachable for now" rather than a bad statement.

The intake retries the first kind for as long as it takes (a PostgreSQL restart, a failover, a
network cut, SQLite's busy lock) and gives the second kind up after a few tries (a dead letter).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

#: SQLSTATE classes of a passing fault: connection exception, transaction rollback (deadlock,
#: serialisation failure), insufficient resources, operator intervention (admin shutdown,
#: cannot connect now), system error.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def database_unavailable(error: BaseException) -> bool:
    """True when `error` (or what caused it) says the database could not be reached or
    dropped the connection, so the same work may well succeed later."""
    for exc in _chain(error):
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return True
        if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection in time
            return True
        if isinstance(exc, sa_exc.DisconnectionError):
            return True
        if isinstance(exc, ConnectionError):  # refused or reset before the driver wrapped it
            return True
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES:
            return True
        if _is_asyncpg_connection_error(exc):
            return True
    return False


def _is_asyncpg_connection_error(exc: BaseException) -> bool:
    try:
        import asyncpg.exceptions as pg
    except ImportError:  # SQLite only
        return False
    return isinstance(exc, (pg.PostgresConnectionError, pg.InterfaceError))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, its explicit causes and SQLAlchemy's wrapped driver errors (no cycles).

    An implicit `__context__` is not followed: an error raised while handling a lost
    connection is a fault of its own."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        for nxt in (exc.__cause__, getattr(exc, "orig", None)):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
