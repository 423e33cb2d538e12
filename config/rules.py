"""Checks that span sections: group references, webhooks' prerequisites, example secrets.

They run on the raw data (after `${VAR}` substitution) next to the schema validation, so that
one pass reports every problem. Each check looks only at values of the right shape and leaves
shape errors to the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from config.paths import Path, Problem, lookup
from config.platforms import Caller, PlatformSchema
from config.samples import SAMPLE_SECRETS
from config.schema import TelegramConfig

Platforms = Mapping[str, PlatformSchema]
"""The registered platforms' schemas, keyed by their key under `channels:`."""

TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)
TELEGRAM_HOSTS = ("api.telegram.org",)


def check_rules(data: dict[str, Any], platforms: Platforms) -> list[Problem]:
    """Every cross-section problem in `data`."""
    return [
        *_channels_present(data, platforms),
        *_group_references(data, platforms),
        *_groups_distinct(data),
        *_webhook_prerequisites(data),
        *_platform_rules(data, platforms),
        *_public_url_needed(data, platforms),
        *_sample_secrets(data, platforms),
    ]


def _sections(data: dict[str, Any], platforms: Platforms) -> list[tuple[PlatformSchema, dict]]:
    """The registered platforms whose section is written as a section, in registry order."""
    channels = data.get("channels")
    if not isinstance(channels, dict):
        return []
    return [
        (schema, channels[name])
        for name, schema in platforms.items()
        if isinstance(channels.get(name), dict)
    ]


def _channels_present(data: dict[str, Any], platforms: Platforms) -> list[Problem]:
    channels = data.get("channels")
    if not isinstance(channels, dict):
        return []
    problems: list[Problem] = [
        (
            ("channels", name),
            "empty section: give the channel's settings, or delete the line to turn it off",
        )
        for name in platforms
        if name in channels and channels[name] is None
    ]
    if not problems and not any(channels.get(name) is not None for name in platforms):
        if not channels:  # unknown keys alone are reported by the schema
            problems.append(
                (("channels",), f"no channel is on: add at least one of {', '.join(platforms)}")
            )
    return problems


def _channel_group_refs(data: dict[str, Any], platforms: Platforms) -> list[tuple[Path, Any]]:
    refs: list[tuple[Path, Any]] = []
    for schema, raw in _sections(data, platforms):
        for relative in schema.group_paths(raw):
            path: Path = ("channels", schema.name, *relative)
            refs.append((path, lookup(data, path)))
    return refs


def _group_references(data: dict[str, Any], platforms: Platforms) -> list[Problem]:
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        return []
    known = ", ".join(groups)
    return [
        (path, f"unknown group {value!r} (known: {known})")
        for path, value in _channel_group_refs(data, platforms)
        if isinstance(value, str) and value not in groups
    ]


def _groups_distinct(data: dict[str, Any]) -> list[Problem]:
    groups = data.get("groups")
    if not isinstance(groups, dict):
        return []
    problems: list[Problem] = []
    owner_of_chat: dict[int, str] = {}
    for name, group in groups.items():
        if not isinstance(group, dict):
            continue
        chat_id = group.get("chat_id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            if chat_id in owner_of_chat:
                problems.append(
                    (
                        ("groups", name, "chat_id"),
                        f"the same Telegram chat as group {owner_of_chat[chat_id]!r}; "
                        "each operators' group needs its own chat",
                    )
                )
            owner_of_chat.setdefault(chat_id, name)
        if group.get("mode") == "replies" and group.get("incoming_topic") is not None:
            problems.append(
                (
                    ("groups", name, "incoming_topic"),
                    "only a forum group (mode: topics) has topics; remove it for mode: replies",
                )
            )
    return problems


def _webhook_prerequisites(data: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if lookup(data, ("telegram", "updates")) == "webhook" and _absent(
        data, ("telegram", "webhook_secret")
    ):
        problems.append(
            (
                ("telegram", "webhook_secret"),
                "required when telegram.updates is webhook (proves a call comes from Telegram)",
            )
        )
    return problems


def _platform_rules(data: dict[str, Any], platforms: Platforms) -> list[Problem]:
    return [
        (("channels", schema.name, *path), message)
        for schema, raw in _sections(data, platforms)
        for path, message in schema.rules(raw)
    ]


def _public_url_needed(data: dict[str, Any], platforms: Platforms) -> list[Problem]:
    """`http.public_url` must exist (and be https for real platforms) when anyone calls us."""
    callers: list[Caller] = []
    if lookup(data, ("telegram", "updates")) == "webhook":
        api_url = lookup(data, ("telegram", "api_url"))
        if not isinstance(api_url, str):
            api_url = str(TelegramConfig.model_fields["api_url"].default)
        callers.append(
            Caller("telegram webhook", (urlsplit(api_url).hostname or "") in TELEGRAM_HOSTS)
        )
    for schema, raw in _sections(data, platforms):
        callers.extend(schema.callers(raw))
    if not callers:
        return []
    public_url = lookup(data, ("http", "public_url"))
    path: Path = ("http", "public_url")
    if public_url is None:
        who = ", ".join(caller.name for caller in callers)
        return [(path, f"required by {who}: the address at which they reach the bridge")]
    if not isinstance(public_url, str):
        return []
    parts = urlsplit(public_url)
    problems: list[Problem] = []
    real = [caller.name for caller in callers if caller.real]
    if real and parts.scheme == "http":
        problems.append((path, f"must be https: {', '.join(real)} only call https addresses"))
    if "telegram webhook" in real:
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return problems  # a bad port is reported by the schema
        if port not in TELEGRAM_WEBHOOK_PORTS:
            allowed = ", ".join(map(str, TELEGRAM_WEBHOOK_PORTS))
            problems.append(
                (path, f"Telegram webhooks only go to ports {allowed}, this URL uses {port}")
            )
    return problems


def _absent(data: dict[str, Any], path: Path) -> bool:
    parent = lookup(data, path[:-1])
    return isinstance(parent, dict) and parent.get(path[-1]) is None


def _sample_secrets(data: dict[str, Any], platforms: Platforms) -> list[Problem]:
    return [
        (
            path,
            f"still the sample value from example.yaml; put {what} here "
            "(the bridge does not start with an example secret)",
        )
        for path, (sample, what) in sample_secrets(platforms).items()
        if lookup(data, path) == sample
    ]


def sample_secrets(platforms: Platforms) -> dict[Path, tuple[str, str]]:
    """Every sample secret of config/example.yaml: the config's own and each platform's."""
    table = dict(SAMPLE_SECRETS)
    for name, schema in platforms.items():
        for path, sample in schema.sample_secrets.items():
            table[("channels", name, *path)] = sample
    return table
