"""deploy/grafana-dashboard.json and deploy/prometheus-alerts.yaml name only metrics a running
`talker-bridge run` exports on /metrics, and the gauges added for them (app/metrics.py) carry
the values the database holds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.bridge import LATE, leading_metrics, running_bridge, seed, value

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


@pytest.fixture
async def bridge_metrics(tmp_path: Path) -> str:
    """/metrics of `talker-bridge run` (SQLite, the fake Telegram) once it leads."""
    database = f"sqlite:///{tmp_path / 'bridge.db'}"
    await seed(database)
    async with running_bridge(tmp_path, database) as url:
        return await leading_metrics(url)


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
