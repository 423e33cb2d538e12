"""`talker-bridge run` deletes old finished outbox rows on its own and counts them in /metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from sandbox.runner import RunningApp, free_port, serving
from sandbox.telegram import FakeTelegram
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import OutboxItem, OutboxState
from tests.app.test_service import TOKEN, wait_for_health, write_config


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[RunningApp, int]]:
    fake = FakeTelegram()
    fake.add_bot(TOKEN, username="retention_test_bot")
    chat_id = fake.create_forum("Operators")
    async with serving(fake.app) as running:
        yield running, chat_id


async def seed(database: str) -> None:
    """Yesterday's sent message and one still waiting, as a previous run left them."""
    await upgrade_async(database)
    engine = create_engine(database)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            for label, state in (("sent", OutboxState.DONE), ("waiting", OutboxState.PENDING)):
                session.add(
                    OutboxItem(
                        platform="nowhere",
                        destination=f"nowhere:{label}",
                        lane=f"nowhere:{label}",
                        kind="send",
                        payload={"label": label},
                        state=state.value,
                        created_at=yesterday,
                        not_before=datetime.now(UTC) + timedelta(days=1),
                        done_at=yesterday if state == OutboxState.DONE else None,
                    )
                )
    finally:
        await engine.dispose()


def labels(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT lane FROM outbox WHERE platform = 'nowhere'")
        return sorted(row[0] for row in rows)


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} is not in /metrics")


async def test_the_service_deletes_finished_rows_after_the_period(tmp_path, telegram) -> None:
    running, chat_id = telegram
    port = free_port()
    config_path = write_config(tmp_path, running.base_url, chat_id, port)
    config_path.write_text(
        config_path.read_text(encoding="utf-8") + "retention:\n  outbox: 2s\n", encoding="utf-8"
    )
    database = tmp_path / "bridge.db"
    await seed(f"sqlite:///{database}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "app", "run", "-c", str(config_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SERVICE_TEST_TOKEN": TOKEN},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_for_health(url, time.monotonic() + 30)
        for _ in range(100):  # the job runs every second
            if labels(database) == ["nowhere:waiting"]:
                break
            await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
            metrics = await response.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)

    assert labels(database) == ["nowhere:waiting"], stderr.decode()[-2000:]
    # At least the seeded row (the desk's own finished rows may be two seconds old too).
    assert metric(metrics, 'talker_bridge_retention_deleted_total{job="outbox"}') >= 1
    assert 'talker_bridge_retention_last_run_timestamp_seconds{job="outbox"}' in metrics
    assert proc.returncode == 0, stderr.decode()[-2000:]
