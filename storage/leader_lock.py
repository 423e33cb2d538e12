"""A PostgreSQL session-level advisory lock held on a connection of its own (leader election).

The lock belongs to the database session, not to a transaction: it is held while the
connection lives and released by the server the moment the connection ends (process killed,
backend terminated). So the connection is dedicated — never pooled, never used for anything
else — and its health is the lease: `ping()` or `renew()` failing means the lock may be gone.

A silent network cut is the hard case: the server keeps the session (and the lock) until it
notices the client is gone. The connection asks the server to probe it (`KEEPALIVE_SETTINGS`:
TCP keepalives and `tcp_user_timeout`, so a real cut ends the session within seconds), and the
`leader_lease` row (storage/models.py `LeaderLease`) covers what keepalives cannot see (a peer
that still ACKs, such as a frozen proxy): the holder renews it over this same connection, so
only the session that holds the lock can renew; a standby that finds it stale ends the
holder's session (`end_session`) and claims it with the next term.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from storage.db import PG_KEEPALIVES, backend_name

if TYPE_CHECKING:  # imported when first needed: only PostgreSQL deployments use it
    import asyncpg


#: Server-side settings of a lock's connection: the keepalives of every connection
#: (storage/db.py): on a real network cut the server frees the lock about 5 s after the last word.
KEEPALIVE_SETTINGS = PG_KEEPALIVES

#: How long `end_session` waits for the stale holder's backend to exit (milliseconds).
TERMINATE_WAIT_MS = 2000


@dataclass(frozen=True)
class Lease:
    """The `leader_lease` row of one lock as a standby reads it."""

    holder: str | None
    holder_pid: int | None
    term: int
    age: float  # seconds since the last renewal, by the server's clock


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (the same in every process)."""
    if not name:
        raise ValueError("a lock name must be a non-empty string")
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def libpq_dsn(url: str) -> str:
    """A config URL (`postgresql://…`, `postgresql+asyncpg://…`) as a DSN asyncpg accepts."""
    if backend_name(url) != "postgresql":
        raise ValueError(f"an advisory lock needs PostgreSQL, not {url!r}")
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class AdvisoryLock:
    """One try-lock on a dedicated asyncpg connection; `close()` releases it."""

    def __init__(self, url: str, name: str, *, timeout: float = 5.0) -> None:
        self.dsn = libpq_dsn(url)
        self.name = name
        self.key = lock_key(name)
        self.timeout = timeout
        self._conn: asyncpg.Connection | None = None
        #: Whether this connection holds the lock (it is held until the connection ends).
        self.held = False

    @property
    def server_pid(self) -> int | None:
        """The backend process id of the lock's connection (None when not connected)."""
        conn = self._conn
        return conn.get_server_pid() if conn is not None else None

    async def try_acquire(self) -> bool:
        """Connect if needed and try the lock once (`pg_try_advisory_lock`); never waits for it.

        Raises what the driver raises when the server cannot be reached.
        """
        conn = await self._connection()
        if not self.held:
            self.held = bool(
                await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.timeout
                )
            )
        return self.held

    async def _connection(self) -> asyncpg.Connection:
        import asyncpg

        if self._conn is None:
            self._conn = await asyncpg.connect(
                self.dsn, timeout=self.timeout, server_settings=KEEPALIVE_SETTINGS
            )
        return self._conn

    # --- the lease row -----------------------------------------------------------------

    async def lease(self) -> Lease | None:
        """The lock's lease row, or None when no process ever led under this name."""
        conn = await self._connection()
        row = await conn.fetchrow(
            "SELECT holder, holder_pid, term,"
            " extract(epoch FROM clock_timestamp() - renewed_at)::float8 AS age"
            " FROM leader_lease WHERE name = $1",
            self.name,
            timeout=self.timeout,
        )
        if row is None:
            return None
        return Lease(row["holder"], row["holder_pid"], int(row["term"]), float(row["age"]))

    async def claim(self, holder: str) -> int:
        """Take the lease for `holder` with the next term (call only while holding the lock)."""
        if not self.held or self._conn is None:
            raise ConnectionError("claim the lease only while holding the lock")
        term = await self._conn.fetchval(
            "INSERT INTO leader_lease AS l (name, holder, holder_pid, term, renewed_at)"
            " VALUES ($1, $2, pg_backend_pid(), 1, clock_timestamp())"
            " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,"
            " holder_pid = EXCLUDED.holder_pid, term = l.term + 1, renewed_at = clock_timestamp()"
            " RETURNING term",
            self.name,
            holder,
            timeout=self.timeout,
        )
        return int(term)

    async def renew(self, holder: str, term: int) -> bool:
        """Confirm the lock and renew the lease; False when another process took it over.

        It travels over the lock's own connection, so an answer proves the session (and with
        it the lock) is alive. Raises what the driver raises when the connection is dead.
        """
        if self._conn is None:
            raise ConnectionError("the advisory lock is not connected")
        status = await self._conn.execute(
            "UPDATE leader_lease SET renewed_at = clock_timestamp()"
            " WHERE name = $1 AND holder = $2 AND term = $3",
            self.name,
            holder,
            term,
            timeout=self.timeout,
        )
        return status == "UPDATE 1"

    async def release(self, holder: str, term: int) -> None:
        """Hand the lease back (a clean stop): a standby may take over at once."""
        if self._conn is None:
            return
        await self._conn.execute(
            "UPDATE leader_lease SET holder = NULL, holder_pid = NULL"
            " WHERE name = $1 AND holder = $2 AND term = $3",
            self.name,
            holder,
            term,
            timeout=self.timeout,
        )

    async def end_session(self, pid: int) -> bool:
        """End the server session `pid` if it holds this lock (a stale leader's); True if so.

        Needs the same database role as that session (or pg_signal_backend); waits up to
        `TERMINATE_WAIT_MS` for the backend to exit, which frees the lock.
        """
        conn = await self._connection()
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        ended = await conn.fetchval(
            "SELECT pg_terminate_backend(l.pid, $4) FROM pg_locks l"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.pid = $3",
            unsigned >> 32,
            unsigned & 0xFFFF_FFFF,
            pid,
            TERMINATE_WAIT_MS,
            timeout=self.timeout + TERMINATE_WAIT_MS / 1000,
        )
        return bool(ended)

    async def ping(self) -> None:
        """Prove the connection (and so the lock) is still alive; raises if it is not."""
        if self._conn is None:
            raise ConnectionError("the advisory lock is not connected")
        await self._conn.fetchval("SELECT 1", timeout=self.timeout)

    def terminate(self) -> None:
        """Drop a connection that cannot be trusted any more, at once, without a goodbye."""
        conn, self._conn = self._conn, None
        self.held = False
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        """End the connection: the server releases the lock. Never raises."""
        conn, self._conn = self._conn, None
        self.held = False
        if conn is None:
            return
        try:
            await conn.close(timeout=self.timeout)
        except Exception:  # a dead connection cannot close politely: drop it
            conn.terminate()
