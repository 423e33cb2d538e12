"""`retention:`: periods written as 45s, 5m, 2h, 1d or seconds; mistakes name the key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import parse_config
from config import ConfigError
from tests.config.test_check_config_cli import run_check

HINT = "(write e.g. 45s, 5m, 2h, 1d or a number of seconds)"


def errors_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="cfg.yaml", env={})
    return caught.value.errors


def test_without_a_section_every_period_has_its_default(minimal) -> None:
    retention = parse_config(minimal, source="cfg.yaml", env={}).retention
    assert retention.outbox == timedelta(days=7)
    assert retention.processed_events == timedelta(days=14)
    assert retention.unattached_uploads == timedelta(minutes=30)
    assert retention.files == timedelta(days=90)


@pytest.mark.parametrize(
    ("written", "meant"),
    [("365d", timedelta(days=365)), ("90d", timedelta(days=90)), ("keep", None), (None, None)],
)
def test_closed_conversations_take_days_or_keep(minimal, written, meant) -> None:
    assert parse_config(minimal, source="cfg.yaml", env={}).retention.closed_conversations is None
    minimal["retention"] = {"closed_conversations": written}
    retention = parse_config(minimal, source="cfg.yaml", env={}).retention
    assert retention.closed_conversations == meant


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("45s", timedelta(seconds=45)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1.5h", timedelta(minutes=90)),
        (90, timedelta(seconds=90)),
        ("3600", timedelta(hours=1)),
    ],
)
def test_durations_are_read_in_every_spelling(minimal, written, meant) -> None:
    minimal["retention"] = {"outbox": written}
    assert parse_config(minimal, source="cfg.yaml", env={}).retention.outbox == meant


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"outbox": "7x"}, f"retention.outbox: not a duration: '7x' {HINT}"),
        ({"outbox": "a week"}, f"retention.outbox: not a duration: 'a week' {HINT}"),
        ({"files": 0}, f"retention.files: must be a positive duration, got 0 {HINT}"),
        ({"files": "-1d"}, f"retention.files: not a duration: '-1d' {HINT}"),
        ({"unattached_uploads": True}, f"retention.unattached_uploads: not a duration {HINT}"),
        (
            {"processed_events": "2h"},
            "retention.processed_events: must be at least 1d, got 2h: platforms deliver an "
            "event again for up to a day, and an id deleted before that would be handled twice",
        ),
        (
            {"unattached_uploads": "10s"},
            "retention.unattached_uploads: must be at least 1m, got 10s: a visitor needs time "
            "to send what they attached",
        ),
        (
            {"unattached_uploads": "2h", "files": "1h"},
            "retention.files: must be longer than unattached_uploads (2h), got 1h",
        ),
        ({"outbx": "7d"}, "retention.outbx: unknown key 'outbx' (did you mean 'outbox'?)"),
        ({"outbox": None}, f"retention.outbox: not a duration {HINT}"),
        (
            {"closed_conversations": 90},
            "retention.closed_conversations: write the period with its unit, e.g. 365d or 90d, "
            "or 'keep' (got 90: a bare number would be seconds, and this setting deletes "
            "customers' messages)",
        ),
        (
            {"closed_conversations": "30"},
            "retention.closed_conversations: write the period with its unit, e.g. 365d or 90d, "
            "or 'keep' (got 30: a bare number would be seconds, and this setting deletes "
            "customers' messages)",
        ),
        (
            {"closed_conversations": "12h"},
            "retention.closed_conversations: must be at least 1d, got 12h: operators read a "
            "closed conversation's history when the customer writes again",
        ),
        (
            {"closed_conversations": "forever"},
            f"retention.closed_conversations: not a duration: 'forever' {HINT}",
        ),
    ],
)
def test_a_bad_period_names_its_key(minimal, section, expected) -> None:
    minimal["retention"] = section
    assert errors_of(minimal) == [f"cfg.yaml: {expected}"]


def test_check_config_refuses_a_bad_period_and_names_the_key(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "telegram: {token: '123456:real-token'}\n"
        "groups: {support: {chat_id: -1001000000001}}\n"
        "channels: {telegram: {group: support}}\n"
        "retention:\n"
        "  outbox: 7 days\n"
        "  files: 30d\n",
        encoding="utf-8",
    )
    result = run_check(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: retention.outbox: not a duration: '7 days' {HINT}"
    ]
