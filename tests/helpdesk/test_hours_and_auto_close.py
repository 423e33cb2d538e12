"""Reminders across a DST change and a holiday, the auto-close, and the dashboard's SLA line.

The group works Mon-Fri 09:00-18:00 in Europe/Berlin; 2027-03-28 (Sunday) is the spring DST
change (CET UTC+1 -> CEST UTC+2) and Monday 2027-03-29 a holiday, so a card that came on
Saturday starts its clock on Tuesday at 09:00 CEST = 07:00 UTC (08:00 UTC had the change been
missed). The clock is injected; the stored instants are moved to those days.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.models import Direction, Message
from tests.desk.desk_harness import accept_card, accepted, eventually
from tests.helpdesk.jobs_harness import (
    conversation,
    feed_reminders,
    jobs,
    set_customer_messages_at,
    set_times,
    sla_desk,
    texts,
)

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
BERLIN = {
    "timezone": "Europe/Berlin",
    "week": {"mon-fri": "09:00-18:00"},
    "holidays": ["2027-03-29"],
}
SATURDAY = datetime(2027, 3, 27, 11, 0, tzinfo=UTC)  # 12:00 CET, closed
SUNDAY = datetime(2027, 3, 28, 10, 0, tzinfo=UTC)  # 12:00 CEST, after the change
HOLIDAY = datetime(2027, 3, 29, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST, a holiday
TUESDAY_OPENS = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
#: The customer's goodbye after an auto-close (they write in Russian).
GOODBYE = "давно не было сообщений"


async def test_no_reminder_while_closed_and_the_clocks_start_at_the_next_opening_after_dst(
    db_url,
) -> None:
    async with sla_desk(db_url, hours=BERLIN) as desk:
        desk.fake.user_says(desk.customer, "weekend question")
        card = await eventually(desk.card)
        await set_times(desk, 1, opened_at=SATURDAY, sla_from=None)
        helpdesk = jobs(desk)

        for now in (SATURDAY + 6 * MINUTE, SUNDAY, HOLIDAY, TUESDAY_OPENS - SECOND):
            assert await helpdesk.run("accept_reminders", now=now) == 0, now
        assert await helpdesk.run("accept_reminders", now=TUESDAY_OPENS + 5 * MINUTE - SECOND) == 0
        assert await helpdesk.run("accept_reminders", now=TUESDAY_OPENS + 5 * MINUTE) == 1
        reminder = await eventually(lambda: feed_reminders(desk))
        assert "has waited 5 min for Accept" in reminder[0]

        # The answer clock too: the customer wrote on Saturday, the claim is older.
        await accept_card(desk, desk.ann, card)
        await eventually(lambda: "Accepted by Ann" in desk.card().caption)
        await set_times(desk, 1, accepted_at=SATURDAY)
        await set_customer_messages_at(desk, 1, SATURDAY + 60 * MINUTE)
        for now in (SUNDAY, HOLIDAY, TUESDAY_OPENS + 15 * MINUTE - SECOND):
            assert await helpdesk.run("answer_reminders", now=now) == 0, now
        assert await helpdesk.run("answer_reminders", now=TUESDAY_OPENS + 15 * MINUTE) == 1
        await eventually(
            lambda: texts(desk, desk.group_id, "the customer has waited 15 min for an answer")
        )


async def test_auto_close_waits_for_a_pending_reply_and_closes_once_it_is_sent(db_url) -> None:
    async with sla_desk(db_url, accept=None, answer=None, auto_close="1h") as desk:
        topic = await accepted(desk, desk.ann, "please check my order")
        helpdesk = jobs(desk)
        soon = datetime.now(UTC) + 30 * MINUTE
        assert await helpdesk.run("auto_close", now=soon) == 0  # not silent for an hour yet

        # The reply's call hangs at Telegram: it is stored, not sent yet.
        desk.fake.hang_next(1, seconds=3.0, method="sendMessage")
        desk.fake.user_says(desk.ann, "Here is the fix", chat_id=desk.group_id, topic=topic)

        async def reply_state() -> str | None:
            async with desk.service.runtime.sessions() as session:
                reply = (
                    await session.exec(select(Message).where(Message.direction == Direction.OUT))
                ).first()
            return reply.delivery_state if reply is not None else None

        deadline = asyncio.get_running_loop().time() + 5
        while await reply_state() != "pending":
            assert asyncio.get_running_loop().time() < deadline, "the reply was not stored"
            await asyncio.sleep(0.05)
        later = datetime.now(UTC) + 2 * 60 * MINUTE
        assert await helpdesk.run("auto_close", now=later) == 0
        assert (await conversation(desk, 1)).state == "accepted"

        await eventually(lambda: [m for m in desk.customer_sees() if m.text == "Here is the fix"])
        deadline = asyncio.get_running_loop().time() + 5
        while await reply_state() != "sent":
            assert asyncio.get_running_loop().time() < deadline, "the reply was not marked sent"
            await asyncio.sleep(0.05)
        assert await helpdesk.run("auto_close", now=later) == 1
        assert await helpdesk.run("auto_close", now=later + MINUTE) == 0
        closed = await conversation(desk, 1)
        assert (closed.state, closed.close_reason) == ("closed", "inactivity")
        await eventually(
            lambda: [
                m
                for m in desk.topic_messages(topic)
                if "Conversation #1 closed for inactivity" in (m.text or "")
            ],
            what="the notice in the topic",
        )
        goodbye = await eventually(
            lambda: [
                m for m in desk.customer_sees() if "давно не было сообщений" in (m.text or "")
            ],
            what="the goodbye",
        )
        assert len(goodbye) == 1
        await eventually(lambda: desk.fake.topics(desk.group_id)[0].closed, what="topic closed")


async def test_the_dashboard_counts_conversations_past_their_sla(db_url) -> None:
    async with sla_desk(db_url, accept="5m", answer="15m") as desk:
        desk.fake.user_says(desk.customer, "anyone?")
        await eventually(desk.card)
        dashboard = await eventually(lambda: texts(desk, desk.group_id, "Past SLA"))
        assert "Past SLA: waiting for Accept 0 | for an answer 0" in dashboard[0]
        # The card has waited ten minutes by the real clock (the dashboard reads it).
        opened = (await conversation(desk, 1)).opened_at
        await set_times(desk, 1, opened_at=opened - 10 * MINUTE)
        await eventually(
            lambda: texts(desk, desk.group_id, "Past SLA: waiting for Accept 1 | for an answer 0"),
            what="the dashboard's SLA line",
        )
