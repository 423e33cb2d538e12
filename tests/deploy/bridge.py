"""A `talker-bridge run` process for the deploy tests: seeded data, the fake Telegram, and its
/metrics read the way Prometheus on the same machine reads them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from sandbox.runner import free_port, serving
from sandbox.telegram import FakeTelegram
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Conversation, Customer, OutboxItem, OutboxState
from tests.app.test_service import TOKEN, wait_for_health, write_config

#: The destination of the seeded outbox row: a day old, not due until tomorrow.
LATE = "nowhere:late"


async def seed(database: str) -> None:
    """A customer waiting in "support" and an outbox row a day old that is not due yet."""
    await upgrade_async(database)
    engine = create_engine(database)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            customer = Customer(channel="telegram", external_id="42", chat="42", name="Ann")
            session.add(customer)
            await session.flush()
            assert customer.id is not None
            session.add(Conversation(customer_id=customer.id, group="support"))
            session.add(
                OutboxItem(
                    platform="nowhere",
                    destination=LATE,
                    lane=LATE,
                    kind="send",
                    payload={},
                    state=OutboxState.PENDING.value,
                    created_at=yesterday,
                    not_before=datetime.now(UTC) + timedelta(days=1),
                )
            )
    finally:
        await engine.dispose()


def value(metrics_text: str, name: str, **labels: str) -> float | None:
    """The sample `name{labels}` of a /metrics text, or None."""
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


@asynccontextmanager
async def running_bridge(
    tmp_path: Path, database: str, *, widget: bool = False
) -> AsyncIterator[str]:
    """`talker-bridge run` on `database` with the fake Telegram: its base URL while it runs.
    `widget`: also the site widget `shop` (origin https://shop.example.com) behind
    https://support.example.com. Stopped with SIGTERM on the way out, and it must exit 0."""
    fake = FakeTelegram()
    fake.add_bot(TOKEN, username="deploy_test_bot")
    chat_id = fake.create_forum("Operators")
    async with serving(fake.app) as telegram:
        port = free_port()
        config_path = write_config(tmp_path, telegram.base_url, chat_id, port)
        text = config_path.read_text(encoding="utf-8")
        text = text.replace(
            f"database: sqlite:///{tmp_path / 'bridge.db'}", f"database: {database}"
        )
        if widget:
            text = text.replace(
                f"port: {port}}}", f"port: {port}, public_url: 'https://support.example.com'}}"
            )
            text += (
                "  site:\n    widgets:\n      shop: {group: support, title: Shop, "
                "origins: ['https://shop.example.com']}\n"
            )
        config_path.write_text(text, encoding="utf-8")
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
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
        assert proc.returncode == 0, stderr.decode()[-2000:]


async def leading_metrics(url: str, within: float = 30) -> str:
    """/metrics once the process reports itself the leader (a single process always becomes it)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{url}/metrics") as response:
                assert response.status == 200
                text = await response.text()
            if value(text, "talker_bridge_leader") == 1 or time.monotonic() > deadline:
                return text
            await asyncio.sleep(0.1)


def missing_tool(what: str, package: str) -> None:
    """A system tool a deploy test needs is missing: skip on a developer's machine, fail in CI
    (`.ci/run` installs it: apt-get install PACKAGE)."""
    import os

    import pytest

    message = f"{what} is not installed (apt-get install -y {package})"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)
