"""A PostgreSQL session-level advisory lock held on a connection of its own (leader election).

The lock belongs to the database session, not to a transaction: it is held while the
connection lives and released by the server the moment the connection ends (process killed,
network cut, backend terminated). So the connection is dedicated — never pooled, never used
for anything else — and its health is the lease: `ping()` failing means the lock may be gone.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from storage.db import backend_name

if TYPE_CHECKING:  # imported when first needed: only PostgreSQL deployments use it
    import asyncpg


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
        self.key = lock_key(name)
        self.timeout = timeout
        self._conn: asyncpg.Connection | None = None

    @property
    def server_pid(self) -> int | None:
        """The backend process id of the lock's connection (None when not connected)."""
        conn = self._conn
        return conn.get_server_pid() if conn is not None else None

    async def try_acquire(self) -> bool:
        """Connect if needed and try the lock once (`pg_try_advisory_lock`); never waits for it.

        Raises what the driver raises when the server cannot be reached.
        """
        import asyncpg

        if self._conn is None:
            self._conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
        got = await self._conn.fetchval(
            "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.timeout
        )
        return bool(got)

    async def ping(self) -> None:
        """Prove the connection (and so the lock) is still alive; raises if it is not."""
        if self._conn is None:
            raise ConnectionError("the advisory lock is not connected")
        await self._conn.fetchval("SELECT 1", timeout=self.timeout)

    async def close(self) -> None:
        """End the connection: the server releases the lock. Never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.close(timeout=self.timeout)
        except Exception:  # a dead connection cannot close politely: drop it
            conn.terminate()
