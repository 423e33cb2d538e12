"""Migrations: the migrated schema equals the models, re-running is a no-op, the CLI works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app.cli import main
from storage.customers import upsert_customer
from storage.db import create_engine, session_factory
from storage.migrate import (
    code_head,
    current_revision_async,
    head_revision,
    upgrade,
    upgrade_async,
)
from storage.models import metadata


def _write_config(path: Path, database: str) -> Path:
    """A minimal valid bridge config naming `database`."""
    path.write_text(
        f"""\
database: {database}
telegram:
  token: "123456:test-token-for-migrate"
groups:
  support:
    chat_id: -1001234567890
channels:
  telegram:
    group: support
""",
        encoding="utf-8",
    )
    return path


EXPECTED_TABLES = {
    "customers",
    "reminders",
    "conversations",
    "messages",
    "message_links",
    "operators",
    "guest_counter",
    "processed_events",
    "kv",
    "avatar_files",
    "outbox",
    "pacing",
    "sent_messages",
    "customer_copies",
    "operator_groups",
    "feed_states",
    "feed_digests",
    "leader_lease",
    "dead_letters",  # issue 13: dead letters
    "alembic_version",
}


async def _schema_drift(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    await upgrade_async(db_url)
    assert await _schema_drift(db_url) == []
    assert await _tables(db_url) == EXPECTED_TABLES


async def test_drift_check_notices_a_missing_table(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE pacing")
    await engine.dispose()
    drift = await _schema_drift(db_url)
    assert [item[0] for item in drift] == ["add_table"]


async def test_migrating_twice_is_a_no_op_that_keeps_data(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        await upsert_customer(session, "vk", "1", "1", None)
        await session.commit()
    await engine.dispose()

    upgrade(db_url)  # the sync entry, called while this test's event loop runs
    assert await current_revision_async(db_url) == head_revision()

    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        again = await upsert_customer(session, "vk", "2", "2", None)
        await session.commit()
    await engine.dispose()
    assert again.guest_number == 2  # the guest sequence was not reset


async def test_empty_database_has_no_revision_until_migrated(db_url: str) -> None:
    assert await current_revision_async(db_url) is None
    await upgrade_async(db_url)
    assert await current_revision_async(db_url) == head_revision() == "0005"


async def test_migrate_command_creates_the_tables(db_url: str, tmp_path: Path, capsys) -> None:
    config = _write_config(tmp_path / "bridge.yaml", db_url)
    assert main(["migrate", "-c", str(config)]) == 0
    assert "migrated from empty to revision 0005" in capsys.readouterr().out
    assert await _tables(db_url) == EXPECTED_TABLES
    assert main(["migrate", "-c", str(config)]) == 0
    assert "up to date (revision 0005)" in capsys.readouterr().out


def test_migrate_console_script_creates_a_sqlite_file_in_a_new_folder(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bridge.db"
    config = _write_config(tmp_path / "bridge.yaml", "sqlite:///placeholder.db")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "migrate",
            "-c",
            str(config),
            "--database",
            f"sqlite:///{database}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert database.exists()


def test_migrate_command_refuses_a_bad_database_url(tmp_path: Path, capsys) -> None:
    config = _write_config(tmp_path / "bridge.yaml", "mysql://u@h/db")
    assert main(["migrate", "-c", str(config)]) == 2
    assert "mysql" in capsys.readouterr().err


def test_migrate_command_reports_config_errors(tmp_path: Path, capsys) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text("database: sqlite:///x.db\n", encoding="utf-8")
    assert main(["migrate", "-c", str(config)]) == 2
    assert "telegram" in capsys.readouterr().err


def test_migrate_command_reports_a_missing_config_file(tmp_path: Path, capsys) -> None:
    assert main(["migrate", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_the_head_read_from_the_migration_files_is_alembics_head() -> None:
    assert code_head() == head_revision()


def test_a_database_at_the_head_is_recognised_without_importing_alembic(tmp_path: Path) -> None:
    """Issue 16: a service restarting on an up-to-date database does not load Alembic (~12 MB)."""
    database = f"sqlite:///{tmp_path / 'bridge.db'}"
    upgrade(database)
    script = (
        "import asyncio, sys\n"
        "from storage.migrate import current_revision_async, upgrade_async\n"
        f"asyncio.run(upgrade_async({database!r}))\n"
        "print('alembic' in sys.modules)\n"
        f"print(asyncio.run(current_revision_async({database!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "0005"]


async def test_a_database_behind_the_head_is_still_upgraded(db_url: str) -> None:
    await upgrade_async(db_url, "0004")
    await upgrade_async(db_url)
    assert await current_revision_async(db_url) == "0005"
    assert await _schema_drift(db_url) == []
