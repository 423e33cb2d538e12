"""Dialect-specific statements the queries share: INSERT ... ON CONFLICT for both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_name


def upsert_insert(session: AsyncSession, model: Any) -> Any:
    """An INSERT for `model` that supports `on_conflict_do_nothing/update` on this backend."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
