"""`/t NAME` sends the admin's template to the customer as the claimer's answer; `/t` lists the
templates; an unknown name gets close matches; anyone but the claimer is refused. Through the
fake Telegram end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select

from storage.models import Conversation, Direction, Message
from tests.desk.desk_harness import Desk, accepted, eventually, running_desk
from tests.helpdesk_front.helpers import database

TEMPLATES = {
    "templates": {
        "delivery": "Your order ships within 2 days, {name}.",
        "hello": {"ru": "Здравствуйте, {name}!", "en": "Hello, {name}!"},
        "bold": "Use <b>tags</b> & {{braces}}",
    }
}


def says_in(desk: Desk, topic: int, needle: str) -> bool:
    return any(needle in (m.text or "") for m in desk.topic_messages(topic))


def customer_got(desk: Desk, needle: str) -> list[Any]:
    return [m for m in desk.customer_sees() if needle in (m.text or "")]


async def test_t_sends_the_template_in_the_customers_language_as_the_claimers_answer(
    db_url: str,
) -> None:
    async with running_desk(db_url, settings=TEMPLATES) as desk:
        topic = await accepted(desk, desk.ann)
        desk.fake.user_says(desk.ann, "/t hello", chat_id=desk.group_id, topic=topic)
        # The customer (language ru, first name Иван) gets the Russian text with their name.
        await eventually(lambda: customer_got(desk, "Здравствуйте, Иван!"), what="the template")
        await eventually(lambda: says_in(desk, topic, "Quick reply hello sent"))
        assert says_in(desk, topic, "Здравствуйте, Иван!")
        desk.fake.user_says(desk.ann, "/t Delivery", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: customer_got(desk, "Your order ships within 2 days, Иван."))
        async with database(desk.db) as session:
            replies = (
                await session.exec(select(Message).where(Message.direction == Direction.OUT))
            ).all()
            conversation = await session.get(Conversation, 1)
        assert [m.text for m in replies] == [
            "Здравствуйте, Иван!",
            "Your order ships within 2 days, Иван.",
        ]
        assert all(m.author == "Ann Operator" for m in replies)
        assert conversation is not None and conversation.first_reply_at == replies[0].created_at


async def test_t_alone_lists_the_templates_escaped_and_an_unknown_name_gets_close_matches(
    db_url: str,
) -> None:
    async with running_desk(db_url, settings=TEMPLATES) as desk:
        topic = await accepted(desk, desk.ann)
        desk.fake.user_says(desk.ann, "/t", chat_id=desk.group_id, topic=topic)
        listing = await eventually(
            lambda: [m for m in desk.topic_messages(topic) if "Quick replies" in (m.text or "")]
        )
        shown = listing[0].text
        assert "delivery — Your order ships within 2 days, {name}." in shown
        assert "bold — Use <b>tags</b> & {{braces}}" in shown  # shown literally, not as HTML
        assert "hello — Hello, {name}! (ru)" in shown
        desk.fake.user_says(desk.ann, "/t helo", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "There is no quick reply helo"))
        assert says_in(desk, topic, "Did you mean: /t hello")
        assert not [m for m in desk.customer_sees() if "Hello" in (m.text or "")]


async def test_t_by_anyone_but_the_claimer_is_refused_and_sends_nothing(db_url: str) -> None:
    async with running_desk(db_url, settings=TEMPLATES, operators_list=True) as desk:
        topic = await accepted(desk, desk.ann)
        desk.fake.user_says(desk.bob, "/t hello", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "Only Ann Operator, who accepted"))
        desk.fake.user_says(desk.eve, "/t hello", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "Only operators of this group can use"))
        await asyncio.sleep(0.3)
        assert not customer_got(desk, "Здравствуйте")
        async with database(desk.db) as session:
            out = (
                await session.exec(select(Message).where(Message.direction == Direction.OUT))
            ).all()
        assert out == []
