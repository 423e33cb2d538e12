"""File_ids of uploaded avatars survive in the database and are shared by processes."""

from __future__ import annotations

import pytest

from bridge.avatars import AvatarService
from bridge.avatars.stored import StoredFileIds
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async


@pytest.fixture
def pg_probed_outside_the_loop(request: pytest.FixtureRequest) -> None:
    """Resolve `pg_server` before the async `db_url` fixture does: its probe calls asyncio.run(),
    which cannot run inside the test's event loop and would wrongly skip the PostgreSQL case."""
    if request.node.callspec.params.get("db_url") == "postgresql":
        request.getfixturevalue("pg_server")


async def test_upload_remembered_by_one_service_is_reused_by_another(
    pg_probed_outside_the_loop: None, db_url: str
) -> None:
    await upgrade_async(db_url)
    first_engine, second_engine = create_engine(db_url), create_engine(db_url)
    try:
        first = AvatarService(StoredFileIds(session_factory(first_engine)))
        photo = await first.photo_for("Иван Петров", channel="telegram", seed="c1")
        assert photo.needs_upload and photo.png

        await first.remember_upload(photo.key, "AgACAgIAAxkBAAIB")
        await first.remember_upload(photo.key, "AgACAgIAAxkBAAIC")  # a re-upload replaces it

        second = AvatarService(StoredFileIds(session_factory(second_engine)))
        again = await second.photo_for("Иван Петров", channel="telegram", seed="c1")
        assert (again.file_id, again.png) == ("AgACAgIAAxkBAAIC", None)
        assert (await second.photo_for("Иван Петров", channel="vk", seed="c1")).needs_upload
    finally:
        await first_engine.dispose()
        await second_engine.dispose()
