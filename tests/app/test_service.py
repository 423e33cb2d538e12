"""`talker-bridge run`: migrates, answers /healthz and /metrics, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from app.config import parse_config
from app.service import Service
from bridge.components import ComponentState
from sandbox.runner import RunningApp, free_port, serving
from sandbox.telegram import FakeTelegram

TOKEN = "4242:service-test-token"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[tuple[FakeTelegram, RunningApp, int]]:
    fake = FakeTelegram()
    fake.add_bot(TOKEN, username="service_test_bot")
    chat_id = fake.create_forum("Operators")
    async with serving(fake.app) as running:
        yield fake, running, chat_id


def write_config(tmp_path: Path, api_url: str, chat_id: int, port: int) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
language: en
database: sqlite:///{tmp_path / "bridge.db"}
http: {{host: 127.0.0.1, port: {port}}}
telegram:
  token: ${{SERVICE_TEST_TOKEN}}
  api_url: {api_url}
groups:
  support: {{chat_id: {chat_id}, mode: topics}}
channels:
  telegram: {{group: support}}
""",
        encoding="utf-8",
    )
    return path


async def wait_for_health(url: str, deadline: float) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/healthz") as response:
                    return response.status, await response.json()
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


async def test_run_serves_health_and_metrics_and_stops_cleanly_on_sigterm(
    tmp_path: Path, fake_telegram: tuple[FakeTelegram, RunningApp, int]
) -> None:
    _, telegram, chat_id = fake_telegram
    port = free_port()
    config_path = write_config(tmp_path, telegram.base_url, chat_id, port)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "app", "run", "-c", str(config_path), "--log-json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SERVICE_TEST_TOKEN": TOKEN},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        status, health = await wait_for_health(url, time.monotonic() + 30)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/metrics") as response:
                metrics_status = response.status
                metrics = await response.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)

    assert health["database"] == {"ok": True, "backend": "sqlite"}
    assert "telegram" in health["channels"]
    assert status in (200, 503) and health["status"] in ("ok", "degraded")
    assert metrics_status == 200
    assert "talker_bridge_up 1.0" in metrics
    assert 'talker_bridge_http_requests_total{route="/healthz",status="' in metrics
    assert proc.returncode == 0, stderr.decode()
    log_lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    messages = [entry["message"] for entry in log_lines]
    assert "started" in messages and messages[-1] == "stopped"
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "bridge.db").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"customers", "conversations", "messages", "outbox", "alembic_version"} <= tables


def test_run_refuses_a_bad_config_with_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "language: fr\ndatabase: sqlite:///x.db\ntelegram: {token: '1:abc'}\n"
        "groups: {support: {chat_id: -100123}}\nchannels: {telegram: {group: sales}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "app", "run", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"{path}: language:" in result.stderr or "broken.yaml: language:" in result.stderr
    assert "channels.telegram.group: unknown group 'sales'" in result.stderr


class RecordingComponent:
    """A component that records its lifecycle, for the composition root's own tests."""

    def __init__(self, name: str, state: ComponentState) -> None:
        self.name = name
        self._state = state
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    def state(self) -> ComponentState:
        return self._state


async def test_healthz_reports_each_channel_and_is_503_when_one_failed(tmp_path: Path) -> None:
    config = parse_config(
        {
            "language": "en",
            "database": f"sqlite:///{tmp_path / 'b.db'}",
            "http": {"host": "127.0.0.1", "port": 8080, "public_url": "https://example.org"},
            "telegram": {"token": "1:abcdef"},
            "groups": {"support": {"chat_id": -1001}},
            "channels": {
                "telegram": {"group": "support"},
                "viber": {"group": "support", "token": "t0ken-for-viber", "name": "Shop"},
            },
        }
    )
    telegram = RecordingComponent("channel:telegram", ComponentState("running"))
    viber = RecordingComponent("channel:viber", ComponentState("failed", "status 2: bad token"))
    service = Service(config, [telegram, viber], port=0)
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{service.port}/healthz") as response:
                status, body = response.status, await response.json()
    finally:
        await service.stop()
    assert status == 503
    assert body["channels"] == {
        "telegram": {"state": "running"},
        "viber": {"state": "failed", "detail": "status 2: bad token"},
    }
    assert telegram.events == ["start", "stop"] and viber.events == ["start", "stop"]


# --- who sees /healthz's details and /metrics (issue 14) -----------------------------------

METRICS_TOKEN = "m3tr1cs-t0ken-for-the-tests"
SECRET_DETAIL = "status 2: bad token 4242:leaked"


def service_with_a_failed_channel(tmp_path: Path, **http: object) -> Service:
    config = parse_config(
        {
            "language": "en",
            "database": f"sqlite:///{tmp_path / 'b.db'}",
            "http": {
                "host": "127.0.0.1",
                "port": 8080,
                "public_url": "https://example.org",
                **http,
            },
            "telegram": {"token": "1:abcdef"},
            "groups": {"support": {"chat_id": -1001}},
            "channels": {
                "telegram": {"group": "support"},
                "viber": {"group": "support", "token": "t0ken-for-viber", "name": "Shop"},
            },
        }
    )
    telegram = RecordingComponent("channel:telegram", ComponentState("running"))
    viber = RecordingComponent("channel:viber", ComponentState("failed", SECRET_DETAIL))
    host = str(http.get("host", "127.0.0.1"))
    return Service(config, [telegram, viber], host=host, port=0, internal_port=0)


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.text(), dict(response.headers)


def this_machines_other_address() -> str | None:
    """An address of this machine that is not loopback (a connection to it from here comes
    from it: the service sees a stranger's peer), or None."""
    try:
        words = subprocess.run(
            ["hostname", "-I"], capture_output=True, text=True, timeout=5
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return next((word for word in words if "." in word and not word.startswith("127.")), None)


async def test_a_stranger_sees_only_the_status_and_is_refused_metrics(tmp_path: Path) -> None:
    address = this_machines_other_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    service = service_with_a_failed_channel(tmp_path, host="0.0.0.0")
    await service.start()
    try:
        stranger = f"http://{address}:{service.port}"
        health_status, health, _ = await fetch(f"{stranger}/healthz")
        metrics_status, metrics, _ = await fetch(f"{stranger}/metrics")
        # Even claiming to be this machine changes nothing: the TCP peer decides.
        spoofed = await fetch(f"{stranger}/healthz", {"X-Forwarded-For": "127.0.0.1"})
        local_status, local, _ = await fetch(f"http://127.0.0.1:{service.port}/healthz")
    finally:
        await service.stop()
    assert (health_status, json.loads(health)) == (503, {"status": "degraded"})
    assert spoofed[:2] == (503, '{"status": "degraded"}')
    assert metrics_status == 403
    assert "http.metrics_token" in metrics and "http.internal" in metrics
    assert "talker_bridge" not in metrics
    # The machine itself (a single-host install, the benchmarks, the demo) still sees it all.
    assert local_status == 503 and SECRET_DETAIL in local


async def test_metrics_need_the_bearer_token_when_one_is_set(tmp_path: Path) -> None:
    service = service_with_a_failed_channel(tmp_path, metrics_token=METRICS_TOKEN)
    await service.start()
    url = f"http://127.0.0.1:{service.port}"
    try:
        missing = await fetch(f"{url}/metrics")
        wrong = await fetch(f"{url}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}x"})
        right = await fetch(f"{url}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        public_health = await fetch(f"{url}/healthz")
        full_health = await fetch(f"{url}/healthz", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    finally:
        await service.stop()
    # The token replaces "this machine": without it even a loopback request is refused.
    assert missing[0] == 401 and missing[2]["WWW-Authenticate"].startswith("Bearer realm=")
    assert wrong[0] == 401 and 'error="invalid_token"' in wrong[2]["WWW-Authenticate"]
    assert "talker_bridge" not in missing[1] + wrong[1]
    assert right[0] == 200 and "talker_bridge_up 1.0" in right[1]
    assert (public_health[0], json.loads(public_health[1])) == (503, {"status": "degraded"})
    assert full_health[0] == 503 and SECRET_DETAIL in full_health[1]
