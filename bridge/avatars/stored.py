"""`AvatarFileIds` kept in the database (table `avatar_files`), shared by every bridge process.

Each call opens its own short session, so a file_id stored after an upload is committed at once
and every other process sees it on its next card.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.avatars import get_avatar_file_id, put_avatar_file_id

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class StoredFileIds:
    """`AvatarFileIds` over `storage.avatars`; `sessions`: `storage.db.session_factory(engine)`.

    May do I/O; database errors pass through to the caller. `put` is idempotent (an upsert).
    """

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def get(self, key: str) -> str | None:
        async with self._sessions() as session:
            return await get_avatar_file_id(session, key)

    async def put(self, key: str, file_id: str) -> None:
        async with self._sessions() as session:
            await put_avatar_file_id(session, key, file_id)
            await session.commit()
