"""Outside working hours a customer gets the offline answer at once (once per closed spell), the
card says the inquiry came outside hours, and its SLA clock starts at the next opening: on the
single-event intake (VK, Viber, the widget) and the Telegram webhook's batched intake, across a
DST change and a holiday, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from storage.models import Conversation, Customer, Message
from tests.adapters.contract.harness import (
    ORIGIN,
    WIDGET,
    SiteCustomer,
    ViberCustomer,
    VkCustomer,
    eventually,
    running_bridge,
)
from tests.helpdesk_front.helpers import database, set_clock

#: Berlin office hours; Easter Monday 2027 is a holiday. Summer time starts Sun 28 Mar 2027.
BERLIN = {
    "timezone": "Europe/Berlin",
    "week": {"mon-fri": "09:00-18:00"},
    "holidays": ["2027-03-29"],
}
MOSCOW = {"timezone": "Europe/Moscow", "week": {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}}
#: Saturday 27 Mar 2027, 21:00 in Berlin (winter time, UTC+1): closed until Tue 30 Mar (Monday
#: is the holiday), 09:00 summer time = 07:00 UTC.
SATURDAY_NIGHT = datetime(2027, 3, 27, 20, 0, tzinfo=UTC)
TUESDAY_OPEN = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)


def hours_of(hours: dict) -> dict:
    """The config changes that give the contract harness's group these working hours."""
    return {"groups": {"support": {"hours": hours}}}


async def _conversation(url: str, channel: str) -> tuple[Conversation, Customer]:
    async with database(url) as session:
        customer = (await session.exec(select(Customer).where(Customer.channel == channel))).one()
        conversation = (
            await session.exec(
                select(Conversation)
                .where(Conversation.customer_id == customer.id)
                .order_by(Conversation.id.desc())  # type: ignore[union-attr]
            )
        ).first()
        assert conversation is not None
        return conversation, customer


def _offline(customer: Any) -> list[str]:
    return [t for t in customer.received_texts() if "closed now" in t or "не работаем" in t]


async def test_vk_customer_gets_the_offline_answer_once_per_closed_spell_across_dst_and_holiday(
    db_url: str,
) -> None:
    async with running_bridge(db_url, changes=hours_of(BERLIN)) as bridge:
        set_clock(bridge.service, SATURDAY_NIGHT)
        maria = VkCustomer(bridge)
        await maria.says("Where is my order?")
        [notice] = await eventually(lambda: _offline(maria), what="the offline answer")
        assert "Tue 30 Mar, 09:00 (Europe/Berlin)" in notice
        card = await eventually(bridge.card, what="the card")
        assert "Received outside working hours" in card.caption
        conversation, customer = await _conversation(bridge.config.database, "vk")
        assert conversation.outside_hours
        assert conversation.sla_from == TUESDAY_OPEN
        assert customer.offline_notice_at == SATURDAY_NIGHT

        # Sunday, still the same closed spell: no second notice.
        set_clock(bridge.service, datetime(2027, 3, 28, 12, 0, tzinfo=UTC))
        await maria.says("Hello?")
        await eventually(
            lambda: (len(bridge.card().caption.split("Hello?")) == 2) or None,
            what="the second message folded into the card",
        )
        # Tuesday during hours: nothing; Tuesday evening (closed again): a new notice.
        set_clock(bridge.service, datetime(2027, 3, 30, 10, 0, tzinfo=UTC))
        await maria.says("Are you there now?")
        set_clock(bridge.service, datetime(2027, 3, 30, 17, 30, tzinfo=UTC))
        await maria.says("And now?")
        notices = await eventually(lambda: len(_offline(maria)) == 2 and _offline(maria))
        assert "Wed 31 Mar, 09:00 (Europe/Berlin)" in notices[1]
        assert len(_offline(maria)) == 2


#: Moscow: no DST; the New Year holidays run to 8 Jan 2027, Saturdays are short.
MOSCOW_HOLIDAYS = {
    **MOSCOW,
    "holidays": [f"2027-01-0{day}" for day in range(1, 9)],
}
#: Thu 31 Dec 2026, 19:00 in Moscow: closed until Sat 9 Jan, 10:00 (07:00 UTC).
NEW_YEARS_EVE = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


async def test_telegram_batch_intake_answers_in_russian_once_and_again_after_an_opening(
    db_url: str,
) -> None:
    async with running_bridge(db_url, changes=hours_of(MOSCOW_HOLIDAYS)) as bridge:
        set_clock(bridge.service, NEW_YEARS_EVE)
        ivan = bridge.telegram.add_user("Иван", "Петров", language_code="ru")
        kate = bridge.telegram.add_user("Kate", "Smith", language_code="en")

        def seen(user: Any) -> list[str]:
            view = bridge.telegram.chat_view(user.id)
            return [m.text or "" for m in view if m.from_id != user.id]

        # Several updates at once: the webhook's group commit stores them in batches.
        for number in range(3):
            bridge.telegram.user_says(ivan, f"Вопрос {number}")
            bridge.telegram.user_says(kate, f"Question {number}")
        [ru] = await eventually(lambda: [t for t in seen(ivan) if "не работаем" in t])
        assert "сб 9 янв, 10:00 (Europe/Moscow)" in ru
        [en] = await eventually(lambda: [t for t in seen(kate) if "closed now" in t])
        assert "Sat 9 Jan, 10:00 (Europe/Moscow)" in en
        await eventually(lambda: len(bridge.cards()) == 2 or None, what="two cards")
        assert all("Received outside working hours" in c.caption for c in bridge.cards())
        async with database(bridge.config.database) as session:
            conversations = (await session.exec(select(Conversation))).all()
        assert [c.sla_from for c in conversations] == [datetime(2027, 1, 9, 7, 0, tzinfo=UTC)] * 2
        assert all(c.outside_hours for c in conversations)

        # Saturday 9 Jan, 15:00 in Moscow: open from 10:00 to 14:00, closed again. Ivan's
        # conversation is open, so his message takes the batch's quick path: a new notice
        # (next opening Mon 11 Jan), and only one although he writes twice.
        set_clock(bridge.service, datetime(2027, 1, 9, 12, 0, tzinfo=UTC))
        bridge.telegram.user_says(ivan, "Есть кто?")
        bridge.telegram.user_says(ivan, "Ау")
        later = await eventually(
            lambda: (n := [t for t in seen(ivan) if "не работаем" in t]) and len(n) == 2 and n
        )
        assert "пн 11 янв, 09:00 (Europe/Moscow)" in later[1]

        async def stored(body: str) -> bool:
            async with database(bridge.config.database) as session:
                return bool(
                    (await session.exec(select(Message).where(Message.text == body))).all()
                )

        deadline = asyncio.get_running_loop().time() + 10
        while not await stored("Ау"):
            assert asyncio.get_running_loop().time() < deadline, "«Ау» was never stored"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a second notice would be queued right behind the first
        assert len([t for t in seen(ivan) if "не работаем" in t]) == 2


async def test_viber_and_the_widget_get_the_offline_answer_and_open_hours_get_none(
    db_url: str,
) -> None:
    async with running_bridge(db_url, changes=hours_of(BERLIN)) as bridge:
        set_clock(bridge.service, SATURDAY_NIGHT)
        viber = ViberCustomer(bridge)
        await viber.says("Hi there")
        [notice] = await eventually(lambda: _offline(viber))
        assert "Tue 30 Mar, 09:00 (Europe/Berlin)" in notice

        visitor = SiteCustomer(bridge)
        await visitor._ensure_token()
        url = f"{bridge.url}/widget/{WIDGET}/ws?after=0"
        async with bridge.http.ws_connect(url, headers={"Origin": ORIGIN}) as ws:
            await ws.send_json({"type": "auth", "token": visitor.token})
            assert (await ws.receive_json(timeout=5))["ok"] is True

            async def pushed_texts(wait: float) -> list[str]:
                texts: list[str] = []
                with contextlib.suppress(TimeoutError):
                    while True:
                        event = await ws.receive_json(timeout=wait)
                        if event.get("type") == "message":
                            message = event["message"]
                            if message["from"] == "operator":
                                texts.append(message["text"])
                                if "closed now" in message["text"]:
                                    return texts
                return texts

            await visitor.says("Hello from the site")
            [site_notice] = await pushed_texts(10)
            assert "Tue 30 Mar, 09:00 (Europe/Berlin)" in site_notice
            await visitor.says("Anyone?")  # the same closed spell: no second notice
            assert await pushed_texts(1.0) == []
        async with database(bridge.config.database) as session:
            site = (
                await session.exec(select(Customer).where(Customer.channel == f"site:{WIDGET}"))
            ).one()
        assert site.offline_notice_at == SATURDAY_NIGHT

        # Open hours: a new customer gets no notice and a plain card.
        set_clock(bridge.service, TUESDAY_OPEN)
        maria = VkCustomer(bridge)
        await maria.says("During hours")
        card = await eventually(
            lambda: [c for c in bridge.cards() if "During hours" in (c.caption or "")]
        )
        assert "outside working hours" not in card[0].caption
        assert _offline(maria) == []


async def test_the_admins_texts_reach_the_customer_offline_and_at_close(db_url: str) -> None:
    texts = {
        "texts": {
            "offline": {"en": "Closed! Back on {opens}."},
            "closed": "Bye from us, write any time.",
        }
    }
    async with running_bridge(db_url, changes={**hours_of(BERLIN), **texts}) as bridge:
        set_clock(bridge.service, SATURDAY_NIGHT)
        maria = VkCustomer(bridge)
        await maria.says("Hello?")
        await eventually(
            lambda: "Closed! Back on Tue 30 Mar, 09:00 (Europe/Berlin)." in maria.received_texts()
        )
        assert _offline(maria) == []  # the built-in text is not sent
        thread = await bridge.accept()
        await eventually(
            lambda: any("Hello?" in t for t in bridge.topic_texts(thread)), what="the history"
        )
        bridge.operator_says(thread, "/close")
        await eventually(lambda: "Bye from us, write any time." in maria.received_texts())
