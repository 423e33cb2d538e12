"""`POST /webhooks/telegram`: a poison update is kept as a dead letter and answered 200 (so
Telegram stops redelivering it, and the updates behind it flow); a transient failure (the
database unreachable) is answered 503 and kept nowhere, so Telegram delivers it again.

The bridge runs whole in webhook mode (tests/desk/desk_harness.py); the fake Telegram delivers
to it over real HTTP and retries any non-2xx answer.
"""

from __future__ import annotations

import time

import pytest
from aiogram.types import Update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from botapi.updates import UpdatesIntake
from sandbox.telegram.updates import Webhook
from storage.models import DeadLetter
from tests.desk.desk_harness import SECRET, Desk, eventually, running_desk

pytestmark = pytest.mark.timeout(90)


def captions(desk: Desk) -> str:
    return "\n".join(m.caption or m.text or "" for m in desk.fake.chat_view(desk.group_id))


async def kept(desk: Desk) -> list[DeadLetter]:
    async with desk.service.runtime.sessions() as session:
        return list((await session.exec(select(DeadLetter))).all())


def deliver_to_the_bridge(desk: Desk) -> int:
    bot_id = int(desk.config.telegram.token.split(":", 1)[0])
    desk.fake.feed(bot_id).set_webhook(
        Webhook(url=desk.base_url + "/webhooks/telegram", secret_token=SECRET)
    )
    return bot_id


async def test_a_poison_update_is_kept_and_answered_200_and_the_next_flows(
    sqlite_url: str,
) -> None:
    async with running_desk(sqlite_url, updates="webhook") as desk:
        intake = next(c for c in desk.service.components if isinstance(c, UpdatesIntake))
        poisoner = desk.fake.add_user("Pat", "Poison")

        async def buggy(update: Update) -> bool:
            user = update.message.from_user if update.message else None
            if user is not None and user.id == poisoner.id:
                raise ValueError("this update breaks a handler")
            return False

        intake.add_direct(buggy, first=True)
        bot_id = deliver_to_the_bridge(desk)
        desk.fake.user_says(poisoner, "the poison pill message")
        desk.fake.user_says(desk.customer, "a question behind it")
        await eventually(lambda: "a question behind it" in captions(desk), wait=20)
        [letter] = await kept(desk)
        assert (letter.source, letter.attempts) == ("telegram", 1)
        assert "the poison pill message" in letter.payload
        assert letter.error.startswith("ValueError: this update breaks a handler")
        assert desk.fake.feed(bot_id).dropped == 0  # Telegram gave nothing up: it got a 200


async def test_a_database_outage_is_answered_503_and_telegram_delivers_again(
    sqlite_url: str,
) -> None:
    async with running_desk(sqlite_url, updates="webhook") as desk:
        intake = next(c for c in desk.service.components if isinstance(c, UpdatesIntake))
        back_at = time.monotonic() + 1.0

        async def database_down(update: Update) -> bool:
            if time.monotonic() < back_at:
                raise OperationalError("INSERT ...", {}, ConnectionRefusedError(111, "refused"))
            return False

        intake.add_direct(database_down, first=True)
        bot_id = deliver_to_the_bridge(desk)
        desk.fake.user_says(desk.customer, "written while the database was down")
        card = await eventually(desk.card, wait=20, what="the card once the database is back")
        assert "written while the database was down" in card.caption
        webhook = desk.fake.feed(bot_id).webhook
        assert webhook is not None and "503" in (webhook.last_error_message or "")
        assert await kept(desk) == []
