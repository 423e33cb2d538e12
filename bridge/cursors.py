"""Durable cursors of pollers (the VK long poll's `ts`), kept in the database's kv table.

A poller saves its cursor only after the events before it were committed, so a restart, or a
standby process taking over as leader, resumes where the last leader stopped: nothing is lost,
and what is read twice is dropped as a duplicate by its external id.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from storage.state import kv_get, kv_set

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

Transaction = Callable[[], AbstractAsyncContextManager["AsyncSession"]]


class StoredCursor:
    """One cursor under one kv key; `transaction()` opens a committed-on-exit session."""

    def __init__(self, transaction: Transaction, key: str) -> None:
        self._transaction = transaction
        self.key = key

    async def load(self) -> str | None:
        """The saved cursor, or None before the first save."""
        async with self._transaction() as session:
            return await kv_get(session, self.key)

    async def save(self, value: str) -> None:
        """Remember `value`; callers save only what is already committed behind it."""
        async with self._transaction() as session:
            await kv_set(session, self.key, value)
