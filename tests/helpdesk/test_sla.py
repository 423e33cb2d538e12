"""The SLA arithmetic: wait keys, repeats, the tick interval, how a wait reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.config import parse_config
from bridge.helpdesk import tick_interval, wanted
from bridge.helpdesk.sla import due, waited_text

START = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)


def config(**group: object):
    return parse_config(
        {
            "language": "en",
            "telegram": {"token": "123456:TEST-token_for_the_fake"},
            "groups": {"support": {"chat_id": -1001, **group}},
            "channels": {"telegram": {"group": "support"}},
        },
        source="test",
    )


def test_a_wait_is_reminded_once_per_accept_within_under_its_own_key() -> None:
    within = timedelta(minutes=5)
    assert due(START, within, START + within - timedelta(seconds=1)) is None
    first = due(START, within, START + within)
    assert first is not None and first.wait_key == "2027-03-30T07:00:00+00:00#1"
    later = due(START, within, START + timedelta(minutes=9, seconds=59))
    assert later is not None and later.wait_key == first.wait_key
    second = due(START, within, START + 2 * within)
    assert second is not None and second.wait_key.endswith("#2")


def test_ticks_follow_the_shortest_time_within_bounds_and_the_time_scale() -> None:
    assert not wanted(config())
    assert wanted(config(auto_close_after="24h"))
    assert tick_interval(config(auto_close_after="24h")) == 30
    assert tick_interval(config(sla={"accept_within": "1m"})) == 6
    assert tick_interval(config(sla={"accept_within": "5s"})) == 1
    assert tick_interval(config(sla={"accept_within": "1m"}), time_scale=20) == 0.3


def test_a_wait_reads_in_minutes_hours_and_days() -> None:
    assert waited_text(timedelta(seconds=20), "en") == "20 s"
    assert waited_text(timedelta(seconds=20), "ru") == "20 с"
    assert waited_text(timedelta(seconds=61), "en") == "1 min"
    assert waited_text(timedelta(minutes=80), "en") == "1 h 20 min"
    assert waited_text(timedelta(days=2, hours=3, minutes=5), "ru") == "2 д 3 ч"
