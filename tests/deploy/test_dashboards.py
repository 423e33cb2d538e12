"""deploy/grafana-dashboard.json and deploy/prometheus-alerts.yaml name only metrics a running
`talker-bridge run` exports on /metrics, and the gauges added for them (app/metrics.py) carry
the values the database holds."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from sandbox.runner import free_port, serving
from sandbox.telegram import FakeTelegram
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Conversation, Customer, OutboxItem, OutboxState
from tests.app.test_service import TOKEN, wait_for_health, write_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
ALERTS = DEPLOY / "prometheus-alerts.yaml"

# --- which metrics a PromQL expression names ------------------------------------------------

#: PromQL words that are not metric names (functions are recognised by the "(" after them).
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects (label matchers, strings, ranges and functions out)."""
    text = _STRINGS.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in _NAME.finditer(text):
        rest = text[match.end() :].lstrip()
        word = match.group()
        if rest.startswith("(") or word in _KEYWORDS:
            continue
        if match.start() > 0 and (
            text[match.start() - 1].isdigit() or text[match.start() - 1] == "."
        ):
            continue  # a number's exponent or unit
        names.add(word)
    return names


def _exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def referenced(path: Path) -> dict[str, set[str]]:
    """Every expression of a dashboard (.json) or rules file (.yaml) and the metrics it names."""
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return {expr: metric_names(expr) for expr in _exprs(document)}


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
}


def exported(metrics_text: str) -> set[str]:
    """Every series name /metrics offers, also of labelled metrics with no series yet."""
    names = set()
    for family in text_string_to_metric_families(metrics_text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def missing(path: Path, metrics_text: str) -> dict[str, set[str]]:
    """Expressions of `path` naming a metric the bridge does not export, with those names."""
    offered = exported(metrics_text)
    found = {expr: names - offered for expr, names in referenced(path).items()}
    return {expr: names for expr, names in found.items() if names}


def value(metrics_text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


# --- a running bridge --------------------------------------------------------------------------

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


@pytest.fixture
async def bridge_metrics(tmp_path: Path) -> AsyncIterator[str]:
    """/metrics of `talker-bridge run` (SQLite, the fake Telegram) once it leads."""
    fake = FakeTelegram()
    fake.add_bot(TOKEN, username="deploy_test_bot")
    chat_id = fake.create_forum("Operators")
    async with serving(fake.app) as telegram:
        port = free_port()
        config_path = write_config(tmp_path, telegram.base_url, chat_id, port)
        await seed(f"sqlite:///{tmp_path / 'bridge.db'}")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "app", "run", "-c", str(config_path)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "SERVICE_TEST_TOKEN": TOKEN},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            await wait_for_health(url, deadline)
            text = await leading_metrics(url, deadline)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
        assert proc.returncode == 0, stderr.decode()[-2000:]
        yield text


async def leading_metrics(url: str, deadline: float) -> str:
    """/metrics once the process reports itself the leader (a single process always becomes it)."""
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{url}/metrics") as response:
                assert response.status == 200
                text = await response.text()
            if value(text, "talker_bridge_leader") == 1 or time.monotonic() > deadline:
                return text
            await asyncio.sleep(0.1)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DASHBOARD, ALERTS], ids=lambda path: path.name)
async def test_every_metric_the_deploy_files_name_is_exported(
    bridge_metrics: str, path: Path
) -> None:
    expressions = referenced(path)
    assert len(expressions) >= 10, f"{path.name} has too few expressions"
    assert missing(path, bridge_metrics) == {}


async def test_a_file_naming_a_metric_the_bridge_lacks_is_caught(
    bridge_metrics: str, tmp_path: Path
) -> None:
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    document["panels"][0]["targets"][0]["expr"] = (
        'sum by (platform) (rate(outbox_sent_total[5m])) / max(outbox_never_made{a="b"})'
    )
    broken = tmp_path / "dashboard.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    assert list(missing(broken, bridge_metrics).values()) == [{"outbox_never_made"}]


async def test_the_gauges_for_the_dashboards_carry_the_databases_figures(
    bridge_metrics: str,
) -> None:
    text = bridge_metrics
    assert value(text, "talker_bridge_leader") == 1
    assert value(text, "talker_bridge_conversations_waiting", group="support") == 1
    labels = {"platform": "nowhere", "destination": LATE}
    assert value(text, "outbox_destination_queue_depth", **labels) == 1
    oldest = value(text, "outbox_destination_oldest_pending_seconds", **labels)
    assert oldest is not None and 86_000 < oldest < 87_000
    # The totals over every destination include it.
    assert (value(text, "outbox_oldest_pending_seconds") or 0) >= oldest - 60
