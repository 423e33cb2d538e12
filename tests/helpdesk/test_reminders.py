"""SLA reminders on the real service and the fake Telegram, driven by an injected clock.

Accept reminders go to the Incoming feed (and privately to the group's operators who started
the bot), once per `accept_within` while the card waits, and stop at the Accept. Answer
reminders go to the claimer privately, or into the conversation's place when the claimer
never started the bot; an answer ends the wait.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import col, select

from storage.models import Message, Reminder
from tests.desk.desk_harness import accept_card, accepted, eventually
from tests.helpdesk.jobs_harness import (
    conversation,
    feed_reminders,
    jobs,
    private_reminders,
    sla_desk,
    texts,
)

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


async def test_a_waiting_card_is_reminded_in_the_feed_every_accept_within_until_accepted(
    db_url,
) -> None:
    async with sla_desk(db_url) as desk:
        desk.fake.user_says(desk.bob, "/start")
        await asyncio.sleep(0.3)
        desk.fake.user_says(desk.customer, "where is my order?")
        card = await eventually(desk.card, what="the card")
        opened = (await conversation(desk, 1)).opened_at
        helpdesk = jobs(desk)

        assert await helpdesk.run("accept_reminders", now=opened + 5 * MINUTE - SECOND) == 0
        assert await helpdesk.run("accept_reminders", now=opened + 5 * MINUTE) == 1
        assert await helpdesk.run("accept_reminders", now=opened + 9 * MINUTE) == 0  # same wait
        reminder = (await eventually(lambda: feed_reminders(desk), what="the reminder"))[0]
        assert "Conversation #1 from Иван <b>Петров</b> (Telegram) has waited 5 min" in reminder
        ping = await eventually(lambda: private_reminders(desk, desk.bob), what="Bob's ping")
        assert "#1" in ping[0] and "5 min for Accept" in ping[0]
        assert private_reminders(desk, desk.ann) == []  # Ann never started the bot

        assert await helpdesk.run("accept_reminders", now=opened + 10 * MINUTE) == 1
        await eventually(lambda: len(feed_reminders(desk)) == 2, what="the second reminder")
        assert "10 min" in feed_reminders(desk)[1]

        await accept_card(desk, desk.ann, card)
        await eventually(lambda: "Accepted by Ann" in desk.card().caption)
        for minutes in (15, 20, 60):
            done = await helpdesk.tick(now=opened + minutes * MINUTE)
            assert done["accept_reminders"] == 0
        await asyncio.sleep(0.5)
        assert len(feed_reminders(desk)) == 2
        assert len(private_reminders(desk, desk.bob, "for Accept")) == 2
        async with desk.service.runtime.sessions() as session:
            claimed = (
                await session.exec(
                    select(Reminder).where(Reminder.kind == "accept").order_by(col(Reminder.id))
                )
            ).all()
        assert [(r.kind, r.wait.rsplit("#", 1)[1]) for r in claimed] == [
            ("accept", "1"),
            ("accept", "2"),
        ]


async def test_the_claimer_who_started_the_bot_is_reminded_privately_until_answering(
    db_url,
) -> None:
    async with sla_desk(db_url) as desk:
        desk.fake.user_says(desk.bob, "/start")
        await asyncio.sleep(0.3)
        topic = await accepted(desk, desk.bob, "is anyone there?")
        accepted_at = (await conversation(desk, 1)).accepted_at
        assert accepted_at is not None
        helpdesk = jobs(desk)

        # The claimer's clock starts at the accept, not at the customer's earlier message.
        assert await helpdesk.run("answer_reminders", now=accepted_at + 15 * MINUTE - SECOND) == 0
        assert await helpdesk.run("answer_reminders", now=accepted_at + 15 * MINUTE) == 1
        assert await helpdesk.run("answer_reminders", now=accepted_at + 16 * MINUTE) == 0
        ping = await eventually(lambda: private_reminders(desk, desk.bob, "your answer"))
        assert "Иван <b>Петров</b> (#1, Telegram) has waited 15 min for your answer" in ping[0]
        assert texts(desk, desk.group_id, "customer has waited") == []  # not in the place

        desk.fake.user_says(desk.bob, "Looking into it", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: [m for m in desk.customer_sees() if m.text == "Looking into it"])
        assert await helpdesk.run("answer_reminders", now=accepted_at + 2 * 60 * MINUTE) == 0
        await asyncio.sleep(0.3)
        assert len(private_reminders(desk, desk.bob, "your answer")) == 1


async def test_a_claimer_without_a_private_chat_is_reminded_in_the_place(db_url) -> None:
    async with sla_desk(db_url) as desk:
        topic = await accepted(desk, desk.ann, "hello?")
        accepted_at = (await conversation(desk, 1)).accepted_at
        assert accepted_at is not None
        desk.fake.user_says(desk.ann, "Hi! One moment", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: [m for m in desk.customer_sees() if m.text == "Hi! One moment"])
        await asyncio.sleep(0.2)
        desk.fake.user_says(desk.customer, "still waiting")
        await eventually(lambda: texts(desk, desk.group_id, "still waiting"))
        answered = (await conversation(desk, 1)).last_operator_reply_at
        assert answered is not None
        async with desk.service.runtime.sessions() as session:
            still_waiting = (
                await session.exec(select(Message).where(Message.text == "still waiting"))
            ).one()
        # The wait started with the customer's message after the answer (its platform time
        # is whole seconds: not before the answer).
        wrote = max(still_waiting.created_at, answered)
        assert wrote - answered < 2 * SECOND
        helpdesk = jobs(desk)

        # The new wait runs from the customer's message after the answer.
        assert await helpdesk.run("answer_reminders", now=wrote + 15 * MINUTE - SECOND) == 0
        assert await helpdesk.run("answer_reminders", now=wrote + 15 * MINUTE) == 1
        notice = await eventually(
            lambda: [
                m
                for m in desk.topic_messages(topic)
                if "Ann Operator, the customer has waited 15 min for an answer" in (m.text or "")
            ],
            what="the reminder in the topic",
        )
        assert len(notice) == 1
        assert private_reminders(desk, desk.ann) == []
        # Repeated every answer_within while the customer still waits.
        assert await helpdesk.run("answer_reminders", now=wrote + 30 * MINUTE) == 1
        await eventually(lambda: len(texts(desk, desk.group_id, "customer has waited")) == 2)


async def test_a_released_conversations_card_waits_afresh_from_the_release(db_url) -> None:
    async with sla_desk(db_url) as desk:
        topic = await accepted(desk, desk.ann, "hello?")
        opened = (await conversation(desk, 1)).opened_at
        desk.fake.user_says(desk.ann, "/release", chat_id=desk.group_id, topic=topic)
        row = await eventually_row(desk, lambda c: c.state == "new")
        assert row.sla_from is not None and row.sla_from > opened
        helpdesk = jobs(desk)
        # Long after the first message, but a moment after the release: no reminder yet.
        assert await helpdesk.run("accept_reminders", now=row.sla_from + 5 * MINUTE - SECOND) == 0
        assert await helpdesk.run("accept_reminders", now=row.sla_from + 5 * MINUTE) == 1


async def eventually_row(desk, check):
    async def probe():
        row = await conversation(desk, 1)
        return row if check(row) else None

    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        if (row := await probe()) is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the conversation never matched")
