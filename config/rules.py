"""Checks that span sections: group references, webhooks' prerequisites, example secrets.

They run on the raw data (after `${VAR}` substitution) next to the schema validation, so that
one pass reports every problem. Each check looks only at values of the right shape and leaves
shape errors to the schema.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from config.channels import FacebookChannel, ViberChannel, VkChannel
from config.paths import Path, Problem, lookup
from config.samples import SAMPLE_SECRETS
from config.schema import TelegramConfig

PLATFORM_CHANNELS = ("telegram", "vk", "viber", "facebook")
ALL_CHANNELS = (*PLATFORM_CHANNELS, "site")
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)


def check_rules(data: dict[str, Any]) -> list[Problem]:
    """Every cross-section problem in `data`."""
    return [
        *_channels_present(data),
        *_group_references(data),
        *_groups_distinct(data),
        *_webhook_prerequisites(data),
        *_public_url_needed(data),
        *_sample_secrets(data),
    ]


def _channels_present(data: dict[str, Any]) -> list[Problem]:
    channels = data.get("channels")
    if not isinstance(channels, dict):
        return []
    problems: list[Problem] = [
        (
            ("channels", name),
            "empty section: give the channel's settings, or delete the line to turn it off",
        )
        for name in ALL_CHANNELS
        if name in channels and channels[name] is None
    ]
    if not problems and not any(channels.get(name) is not None for name in ALL_CHANNELS):
        if not channels:  # unknown keys alone are reported by the schema
            problems.append(
                (("channels",), f"no channel is on: add at least one of {', '.join(ALL_CHANNELS)}")
            )
    return problems


def _channel_group_refs(data: dict[str, Any]) -> list[tuple[Path, Any]]:
    refs: list[tuple[Path, Any]] = []
    for name in PLATFORM_CHANNELS:
        refs.append((("channels", name, "group"), lookup(data, ("channels", name, "group"))))
    widgets = lookup(data, ("channels", "site", "widgets"))
    if isinstance(widgets, dict):
        for widget_id in widgets:
            path: Path = ("channels", "site", "widgets", widget_id, "group")
            refs.append((path, lookup(data, path)))
    return refs


def _group_references(data: dict[str, Any]) -> list[Problem]:
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        return []
    known = ", ".join(groups)
    return [
        (path, f"unknown group {value!r} (known: {known})")
        for path, value in _channel_group_refs(data)
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
    if lookup(data, ("channels", "vk", "updates")) == "callback":
        for key, why in (
            ("secret", "proves a call comes from VK"),
            ("confirmation", "the string VK expects back when it checks the server"),
        ):
            if _absent(data, ("channels", "vk", key)):
                problems.append(
                    (("channels", "vk", key), f"required when updates is callback ({why})")
                )
    return problems


def _public_url_needed(data: dict[str, Any]) -> list[Problem]:
    """`http.public_url` must exist (and be https for real platforms) when anyone calls us."""
    callers: list[tuple[str, str]] = []  # who calls us, the API URL in use ("" = a browser)
    if lookup(data, ("telegram", "updates")) == "webhook":
        callers.append(("telegram webhook", _api_url(data, ("telegram",), TelegramConfig)))
    channels = data.get("channels")
    if isinstance(channels, dict):
        if lookup(data, ("channels", "vk", "updates")) == "callback":
            callers.append(("vk callback", _api_url(data, ("channels", "vk"), VkChannel)))
        if isinstance(channels.get("viber"), dict):
            callers.append(("viber", _api_url(data, ("channels", "viber"), ViberChannel)))
        if isinstance(channels.get("facebook"), dict):
            callers.append(
                (
                    "facebook",
                    _api_url(data, ("channels", "facebook"), FacebookChannel, "graph_url"),
                )
            )
        if isinstance(channels.get("site"), dict):
            callers.append(("the site widget", ""))
    if not callers:
        return []
    public_url = lookup(data, ("http", "public_url"))
    path: Path = ("http", "public_url")
    if public_url is None:
        who = ", ".join(name for name, _ in callers)
        return [(path, f"required by {who}: the address at which they reach the bridge")]
    if not isinstance(public_url, str):
        return []
    parts = urlsplit(public_url)
    problems: list[Problem] = []
    real = [name for name, api in callers if api and _is_real_platform(api)]
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


_REAL_HOSTS = ("api.telegram.org", "api.vk.ru", "api.vk.com", "chatapi.viber.com")


def _is_real_platform(api_url: str) -> bool:
    host = urlsplit(api_url).hostname or ""
    return host in _REAL_HOSTS or host.endswith("facebook.com")


def _api_url(data: dict[str, Any], section: Path, model: type, key: str = "api_url") -> str:
    value = lookup(data, (*section, key))
    if isinstance(value, str):
        return value
    return str(model.model_fields[key].default)


def _absent(data: dict[str, Any], path: Path) -> bool:
    parent = lookup(data, path[:-1])
    return isinstance(parent, dict) and parent.get(path[-1]) is None


def _sample_secrets(data: dict[str, Any]) -> list[Problem]:
    return [
        (
            path,
            f"still the sample value from example.yaml; put {what} here "
            "(the bridge does not start with an example secret)",
        )
        for path, (sample, what) in SAMPLE_SECRETS.items()
        if lookup(data, path) == sample
    ]
