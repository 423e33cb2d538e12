"""Polling never loses an update: a database outage is waited out, a restart of Telegram's
update ids is noticed, and the updates of one getUpdates share the group commit.

The bridge runs whole (tests/desk/desk_harness.py) against the fake Telegram; PostgreSQL is
reached through an in-test TCP proxy that refuses and cuts connections like a restart.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiogram.types import Update
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from botapi.updates import UpdatesIntake
from sandbox.telegram.updates import Webhook
from storage.timeutil import utcnow
from tests.desk.desk_harness import SECRET, Desk, eventually, running_desk
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.timeout(120)


def intake_of(desk: Desk) -> UpdatesIntake:
    return next(c for c in desk.service.components if isinstance(c, UpdatesIntake))


def bot_id_of(desk: Desk) -> int:
    return int(desk.config.telegram.token.split(":", 1)[0])


def captions(desk: Desk) -> str:
    return "\n".join(m.caption or m.text or "" for m in desk.fake.chat_view(desk.group_id))


async def health(desk: Desk) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(desk.base_url + "/healthz") as response:
        body: dict[str, Any] = await response.json()
        return body


async def open_dead_letters(desk: Desk) -> int:
    async with desk.service.runtime.sessions() as session:
        result = await session.exec(text("SELECT count(*) FROM dead_letters"))  # type: ignore[call-overload]
        return int(result.scalar_one())


async def newest_processed_update(desk: Desk) -> int:
    """The highest Telegram update id the bridge recorded as processed."""
    async with desk.service.runtime.sessions() as session:
        result = await session.exec(  # type: ignore[call-overload]
            text("SELECT event_id FROM processed_events WHERE source = 'telegram'")
        )
        return max(int(event_id) for event_id in result.scalars().all())


async def a_week_passes(desk: Desk) -> None:
    """Every id processed and the stored offset are now eight days old."""
    old = utcnow() - timedelta(days=8)
    if desk.db.startswith("sqlite"):
        old = old.replace(tzinfo=None)  # type: ignore[assignment]
    async with desk.service.runtime.transaction() as session:
        for table, column in (("processed_events", "created_at"), ("kv", "updated_at")):
            await session.exec(  # type: ignore[call-overload]
                text(f"UPDATE {table} SET {column} = :old"), params={"old": old}
            )


async def test_a_database_outage_in_a_handler_is_waited_out_and_nothing_is_lost(
    sqlite_url: str,
) -> None:
    async with running_desk(sqlite_url) as desk:
        intake = intake_of(desk)
        back_at = time.monotonic() + 1.5

        async def database_down(update: Update) -> bool:
            if time.monotonic() < back_at:
                raise OperationalError(
                    "INSERT INTO messages ...", {}, ConnectionRefusedError(111, "Connect refused")
                )
            return False  # the database is back: the real handlers take the update

        intake.add_direct(database_down, first=True)
        desk.fake.user_says(desk.customer, "sent while the database was down")
        state = await eventually(
            lambda: intake.state().state == "degraded", wait=5, what="a degraded intake"
        )
        assert state
        body = await health(desk)
        assert body["channels"]["telegram"]["state"] == "degraded"
        assert "wait for the database" in body["channels"]["telegram"]["detail"]
        card = await eventually(desk.card, wait=15, what="the card after the outage")
        assert "sent while the database was down" in card.caption
        assert intake.state().state == "running"
        assert await open_dead_letters(desk) == 0


@pytest.mark.postgres
async def test_a_postgres_restart_while_polling_loses_no_customer_message(pg_url: str) -> None:
    url = make_url(pg_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        async with running_desk(proxied) as desk:
            desk.fake.user_says(desk.customer, "before the restart")
            await eventually(desk.card, wait=15, what="the first card")
            customers = [desk.fake.add_user(f"Client{i}", "Waiting") for i in range(6)]
            proxy.refuse()
            proxy.cut()  # PostgreSQL restarts: every connection is reset, new ones refused
            for number, customer in enumerate(customers):
                desk.fake.user_says(customer, f"question {number} during the restart")
            await asyncio.sleep(3)
            proxy.refuse(False)
            await eventually(
                lambda: all(
                    f"question {number} during the restart" in captions(desk)
                    for number in range(len(customers))
                ),
                wait=40,
                what="every customer's message in the group",
            )
            assert await open_dead_letters(desk) == 0
            customers_side = next(p for p in intake_of(desk)._parts if hasattr(p, "committer"))
            # The six messages of one getUpdates were stored by one group commit, not six.
            assert customers_side.committer.stats.largest_batch > 1


async def test_polling_notices_restarted_update_ids_after_a_week(sqlite_url: str) -> None:
    async with running_desk(sqlite_url) as desk:
        intake = intake_of(desk)
        desk.fake.user_says(desk.customer, "a week ago")
        await eventually(desk.card, wait=10, what="the first card")
        await eventually(lambda: intake.handled >= 1)
        # A week without updates: Telegram restarts update ids at a random lower value.
        await a_week_passes(desk)
        intake.clock = lambda: utcnow() + timedelta(days=8)
        calls_before = len(desk.fake.calls("getUpdates"))
        # Every earlier update was confirmed: the bridge now polls without its stale offset.
        await eventually(
            lambda: any(
                "offset" not in c.params for c in desk.fake.calls("getUpdates")[calls_before:]
            ),
            what="getUpdates without an offset",
        )
        # ... and the next one happens to equal the id of the message a week ago.
        reused = await newest_processed_update(desk)
        desk.fake.restart_update_ids(bot_id_of(desk), reused)
        newcomer = desk.fake.add_user("Nina", "New")
        desk.fake.user_says(newcomer, "after the restart of update ids")
        await eventually(
            lambda: "after the restart of update ids" in captions(desk),
            wait=10,
            what="the message with a reused, lower update id",
        )
        desk.fake.user_says(desk.customer, "and the next one")
        await eventually(lambda: "and the next one" in captions(desk), wait=10)


async def test_a_webhook_update_reusing_an_old_id_is_a_new_update(sqlite_url: str) -> None:
    async with running_desk(sqlite_url, updates="webhook") as desk:
        bot_id = bot_id_of(desk)
        desk.fake.feed(bot_id).set_webhook(
            Webhook(url=desk.base_url + "/webhooks/telegram", secret_token=SECRET)
        )
        desk.fake.user_says(desk.customer, "a week ago by webhook")
        await eventually(lambda: "a week ago by webhook" in captions(desk), wait=10)
        await a_week_passes(desk)
        desk.fake.restart_update_ids(bot_id, await newest_processed_update(desk))
        newcomer = desk.fake.add_user("Nina", "New")
        desk.fake.user_says(newcomer, "an old update id again, a new update")
        await eventually(
            lambda: "an old update id again, a new update" in captions(desk),
            wait=10,
            what="the webhook update that reuses an old id",
        )
