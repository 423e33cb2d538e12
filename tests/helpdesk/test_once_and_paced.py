"""Each reminder once with two processes on one PostgreSQL; a burst of them paced with the rest.

Two services (two runtimes, two outbox workers) share one database and one fake Telegram;
both tick the jobs at the same instants, concurrently. The posts the fake shows are counted:
every reminder exactly once. A burst of reminders to a busy group goes through the outbox's
pacing like every post: no 429 from the fake (it enforces Telegram's limits), and the
customers' messages keep flowing.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from app.wiring import build_service
from botapi.updates import UpdatesIntake
from tests.desk.desk_harness import accepted, eventually
from tests.helpdesk.jobs_harness import (
    conversations,
    feed_reminders,
    jobs,
    private_reminders,
    sla_desk,
)

MINUTE = timedelta(minutes=1)
TIME_SCALE = 20.0


def numbers(reminders: list[str]) -> list[int]:
    return sorted(int(m.group(1)) for r in reminders if (m := re.search(r"#(\d+)", r)))


async def test_two_processes_ticking_together_send_each_reminder_once(pg_url) -> None:
    async with sla_desk(pg_url, time_scale=TIME_SCALE) as desk:
        second = build_service(desk.config, time_scale=TIME_SCALE, port=0)
        for component in second.components:
            if isinstance(component, UpdatesIntake):
                component.poll_timeout = 1
        await second.start()
        try:
            other = second.helpdesk
            assert other is not None and other is not jobs(desk)
            await other.stop()
            desk.fake.user_says(desk.bob, "/start")
            await asyncio.sleep(0.3)
            for index in range(3):
                desk.fake.user_says(desk.fake.add_user(f"Client{index}"), f"question {index}")
            deadline = asyncio.get_running_loop().time() + 10
            while len(found := await conversations(desk)) < 3:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            opened = max(c.opened_at for c in found)

            sent = 0
            for minutes in (5, 6, 10, 11, 15):
                now = opened + minutes * MINUTE
                done = await asyncio.gather(jobs(desk).tick(now=now), other.tick(now=now))
                sent += sum(d["accept_reminders"] for d in done)
            assert sent == 9  # three cards, reminded at 5, 10 and 15 minutes
            await eventually(lambda: len(feed_reminders(desk)) >= 9, what="nine reminders")
            await eventually(
                lambda: len(private_reminders(desk, desk.bob, "for Accept")) >= 9,
                what="nine pings",
            )
            await asyncio.sleep(1.0)  # a double would have arrived by now
            assert numbers(feed_reminders(desk)) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
            assert numbers(private_reminders(desk, desk.bob, "for Accept")) == [
                1, 1, 1, 2, 2, 2, 3, 3, 3,
            ]  # fmt: skip
            for waited in ("5 min", "10 min", "15 min"):
                assert sum(f"waited {waited} " in r for r in feed_reminders(desk)) == 3
        finally:
            await second.stop()


async def test_a_burst_of_reminders_to_a_busy_group_is_paced_without_a_429(db_url) -> None:
    async with sla_desk(db_url, time_scale=TIME_SCALE) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann, "I am a customer in a topic")
        for index in range(12):
            fake.user_says(fake.add_user(f"Client{index}"), f"question {index}")
        deadline = asyncio.get_running_loop().time() + 10
        while len(found := await conversations(desk)) < 13:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        opened = max(c.opened_at for c in found)

        # The reminders of twelve cards at once, while the customer in the topic writes.
        burst = asyncio.create_task(jobs(desk).run("accept_reminders", now=opened + 5 * MINUTE))
        for index in range(6):
            fake.user_says(desk.customer, f"still there? {index}")
        assert await burst == 12

        def in_topic() -> list[str]:
            return [
                m.text or ""
                for m in desk.topic_messages(topic)
                if "still there?" in (m.text or "")
            ]

        await eventually(
            lambda: all(any(f"still there? {i}" in t for t in in_topic()) for i in range(6)),
            wait=30,
            what="the customer's messages in the topic",
        )
        await eventually(lambda: len(feed_reminders(desk)) == 12, wait=30, what="12 reminders")
        assert numbers(feed_reminders(desk)) == list(range(2, 14))
        assert fake.too_many_requests.total == 0
