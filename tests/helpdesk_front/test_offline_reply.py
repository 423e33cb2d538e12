"""Outside working hours a customer gets the offline answer at once (once per closed spell), the
card says the inquiry came outside hours, and its SLA clock starts at the next opening: on the
single-event intake (VK, Viber, the widget) and the Telegram webhook's batched intake, across a
DST change and a holiday, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from storage.models import Conversation, Customer
from tests.adapters.contract.harness import (
    SiteCustomer,
    TelegramCustomer,
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
    async with running_bridge(db_url, extra_group={"hours": BERLIN}) as bridge:
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
