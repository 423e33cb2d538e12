"""Several processes migrating one empty database at once: all succeed, the schema is built once.

Replicas start together in every orchestrator, and each runs the migrations first
(app/service.py). On PostgreSQL the second `CREATE TABLE alembic_version` used to die with
`duplicate key value violates unique constraint "pg_type_typname_nsp_index"`; the migrations
now take an advisory lock first (storage/migrate.py), so the others wait and then find the
database up to date.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import current_revision_async, head_revision, upgrade_async
from tests.storage.test_migrate import _write_config

WORKTREE = Path(__file__).resolve().parents[2]


async def _version_rows(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def test_four_concurrent_upgrades_of_an_empty_database_all_succeed(db_url) -> None:
    # (Before the lock, on PostgreSQL, this did not even fail cleanly: the four Alembic runs
    # interleaved in one interpreter and hung, hence the timeout.)
    results = await asyncio.wait_for(
        asyncio.gather(*(upgrade_async(db_url) for _ in range(4)), return_exceptions=True),
        timeout=60,
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert await current_revision_async(db_url) == head_revision()
    assert await _version_rows(db_url) == [head_revision()]


async def test_two_migrate_commands_started_together_both_succeed(db_url, tmp_path) -> None:
    config = _write_config(tmp_path / "bridge.yaml", db_url)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "migrate",
            "-c",
            str(config),
            cwd=WORKTREE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(p.communicate() for p in processes)), timeout=60
    )
    codes = [p.returncode for p in processes]
    assert codes == [0, 0], [err.decode() for _, err in outputs]
    head = head_revision()
    for out, _ in outputs:  # "... migrated from empty to revision H" or "... up to date (...H)"
        assert f"revision {head}" in out.decode()
    assert await _version_rows(db_url) == [head]
