"""The SQLite database holds every customer's messages: the files and the folder the bridge
creates for it are readable by the service's user only (0600 / 0700), whatever the umask
(here the usual 022, which would leave them world-readable); what exists keeps its mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import upgrade_async


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("driver", ["sqlite", "sqlite+aiosqlite"])
async def test_the_database_its_wal_and_shm_and_new_folders_are_the_users_only(
    tmp_path: Path, driver: str
) -> None:
    if driver.endswith("aiosqlite"):
        pytest.importorskip("aiosqlite")
    database = tmp_path / "data" / "bridge" / "bridge.db"
    url = f"{driver}:///{database}"
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE probe (x INTEGER)"))
        async with engine.connect() as connection:  # open: -wal and -shm exist meanwhile
            await connection.execute(text("SELECT count(*) FROM probe"))
            files = {
                name: mode(database.with_name(name))
                for name in ("bridge.db", "bridge.db-wal", "bridge.db-shm")
            }
    finally:
        await engine.dispose()
    assert files == {"bridge.db": 0o600, "bridge.db-wal": 0o600, "bridge.db-shm": 0o600}
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "bridge") == 0o700


async def test_an_existing_folder_and_database_keep_their_modes(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    await upgrade_async(f"sqlite:///{shared / 'new.db'}")
    assert mode(shared) == 0o755  # not ours: the admin chose it
    assert mode(shared / "new.db") == 0o600

    existing = shared / "old.db"
    existing.touch()
    os.chmod(existing, 0o640)
    await upgrade_async(f"sqlite:///{existing}")
    assert mode(existing) == 0o640
