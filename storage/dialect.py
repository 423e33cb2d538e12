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


_BUILT: dict[tuple[str, Any, tuple[str, ...], Any], Any] = {}


def insert_skipping_duplicates(
    session: AsyncSession, model: Any, unique: tuple[str, ...], returning: Any
) -> Any:
    """`INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING returning` for this backend.

    Built once per backend and reused: the batch intake runs it with a list of rows per
    batch, and building it anew each time cost more than running it.
    """
    key = (dialect_name(session), model, unique, returning)
    statement = _BUILT.get(key)
    if statement is None:
        statement = (
            upsert_insert(session, model)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(returning)
        )
        _BUILT[key] = statement
    return statement
