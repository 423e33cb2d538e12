"""Rendered avatars already uploaded to Telegram: render key → file_id, to upload each once."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import AvatarFile
from storage.timeutil import utcnow


async def get_avatar_file_id(session: AsyncSession, key: str) -> str | None:
    """The Telegram file_id of the avatar rendered under `key`, if uploaded before."""
    row = await session.get(AvatarFile, key, populate_existing=True)
    return row.file_id if row is not None else None


async def put_avatar_file_id(session: AsyncSession, key: str, file_id: str) -> None:
    """Remember the file_id Telegram gave the avatar `key` (replacing an older one)."""
    if not key or not file_id:
        raise ValueError("avatar key and file_id must be non-empty")
    await session.exec(
        upsert_insert(session, AvatarFile)
        .values(key=key, file_id=file_id, created_at=utcnow())
        .on_conflict_do_update(index_elements=["key"], set_={"file_id": file_id})
    )
