"""The backup and restore steps of docs/setup.md (section 14) work on a running bridge: the
copy taken while it runs brings back a conversation lost afterwards, and the restarted bridge
serves it (its waiting count on /metrics)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from tests.deploy.bridge import leading_metrics, missing_tool, running_bridge, seed, value

WAITING = "talker_bridge_conversations_waiting"


def lose_the_conversations(database: Path) -> None:
    """What the backup is for: the data gone (a mistake, a broken disk)."""
    # Closed at once: a connection left open would checkpoint its WAL into the restored file.
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("DELETE FROM conversations")


async def run(*command: str) -> None:
    """Run a command line as an admin would (without blocking the bridge's fake Telegram)."""
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (command, out.decode(), err.decode())


async def waiting_in_support(tmp_path: Path, database: str) -> float | None:
    async with running_bridge(tmp_path, database) as url:
        return value(await leading_metrics(url), WAITING, group="support")


async def test_an_online_sqlite_backup_restores_a_lost_conversation(tmp_path: Path) -> None:
    if shutil.which("sqlite3") is None:
        missing_tool("the sqlite3 command", "sqlite3")
    live = tmp_path / "bridge.db"
    copy = tmp_path / "backup" / "bridge.db"
    copy.parent.mkdir()
    await seed(f"sqlite:///{live}")
    async with running_bridge(tmp_path, f"sqlite:///{live}") as url:
        assert value(await leading_metrics(url), WAITING, group="support") == 1
        # The docs' command, while the bridge runs and writes.
        await run("sqlite3", str(live), f".backup '{copy}'")
        lose_the_conversations(live)
        assert value(await leading_metrics(url), WAITING, group="support") == 0
    # Restore as the docs say: stopped, the WAL files gone, the copy in place.
    for leftover in (tmp_path / "bridge.db-wal", tmp_path / "bridge.db-shm"):
        leftover.unlink(missing_ok=True)
    shutil.copy(copy, live)
    assert await waiting_in_support(tmp_path, f"sqlite:///{live}") == 1


async def test_a_pg_dump_taken_while_running_restores_a_lost_conversation(
    tmp_path: Path, pg_url: str
) -> None:
    for tool in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(tool) is None:
            missing_tool(tool, "postgresql-client")
    dump = tmp_path / "bridge.dump"
    await seed(pg_url)
    async with running_bridge(tmp_path, pg_url) as url:
        assert value(await leading_metrics(url), WAITING, group="support") == 1
        await run("pg_dump", "-Fc", "-d", pg_url, "-f", str(dump))
        await run("psql", "-q", "-d", pg_url, "-c", "DELETE FROM conversations")
        assert value(await leading_metrics(url), WAITING, group="support") == 0
    await run("pg_restore", "--clean", "--if-exists", "--no-owner", "-d", pg_url, str(dump))
    assert await waiting_in_support(tmp_path, pg_url) == 1
