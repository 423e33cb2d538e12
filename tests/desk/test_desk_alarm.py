"""`outbox.alarm_after_seconds`, end to end: Telegram answers 502 for a while, the operators
are told once in the conversation's place, and once more when the messages go out."""

from __future__ import annotations

import logging

import pytest
from desk_harness import accepted, eventually, running_desk
from prometheus_client import REGISTRY

from botapi.updates import UpdatesIntake
from bridge.outbox.alarm import StuckDestination
from desk.alarm import DeskAlarm

#: Scaled by the service's time scale (20): the alarm after 0.5 s, retries within 0.1 s.
OUTBOX = {"alarm_after_seconds": 10, "max_backoff_seconds": 2}


def _stuck_rows() -> float:
    return REGISTRY.get_sample_value("outbox_transient_alarm") or 0.0


async def test_stuck_replies_are_told_once_and_their_recovery_once(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.outbox")
    async with running_desk(sqlite_url, outbox=OUTBOX) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann, "hi")
        before = _stuck_rows()
        fake.fail_next(100_000, 502, "sendMessage")  # Telegram is down for sending
        fake.user_says(desk.ann, "are you there?", chat_id=desk.group_id, topic=topic)

        await eventually(lambda: _stuck_rows() > before, what="the reply raises the alarm")
        await eventually(
            lambda: any("outbox ALARM" in r.getMessage() for r in caplog.records),
            what="the alarm in the log",
        )
        fake.faults.clear()  # Telegram is back

        def notices() -> list[str]:
            return [m.text or "" for m in desk.topic_messages(topic) if "⏳" in (m.text or "")]

        def recoveries() -> list[str]:
            return [m.text or "" for m in desk.topic_messages(topic) if "✅" in (m.text or "")]

        await eventually(recoveries, what="the recovery notice")
        await eventually(
            lambda: any("are you there?" in (m.text or "") for m in desk.customer_sees()),
            what="the reply reaches the customer",
        )
        [stuck] = notices()
        assert stuck.startswith("⏳ Messages to Telegram have not gone out for 1 min (")
        assert "Bad Gateway" in stuck  # the platform's error, as the worker saw it
        assert recoveries() == ["✅ Messages to Telegram are going out again (after 1 min)."]
        assert _stuck_rows() == before
        assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_a_stuck_row_of_no_conversation_is_told_in_its_groups_feed(sqlite_url: str) -> None:
    async with running_desk(sqlite_url) as desk:
        runtime = next(c for c in desk.service.components if isinstance(c, UpdatesIntake)).runtime
        alarm = StuckDestination("telegram", str(desk.group_id), 1, None, 0.0, "Bad Gateway")
        async with runtime.transaction() as session:
            await DeskAlarm(lambda: runtime.desk).stuck(session, alarm, 600.0)

        def feed() -> list[str]:
            return [m.text or "" for m in desk.fake.chat_view(desk.group_id) if m.kind == "text"]

        told = await eventually(lambda: [t for t in feed() if t.startswith("⏳")])
        assert told == [
            "⏳ Messages to Telegram have not gone out for 10 min (Bad Gateway). "
            "The bridge keeps trying; they will go out in order."
        ]
