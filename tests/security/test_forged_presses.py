"""Forged button presses across groups: callback data is whatever a (modified) client sends, so
an operator of one group must not claim or transfer another group's conversations."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.models import Conversation
from tests.desk.desk_harness import accept_card, eventually, running_desk


async def _conversation(database: str) -> Conversation:
    engine = create_engine(database)
    try:
        async with session_factory(engine)() as session:
            return (await session.exec(select(Conversation))).one()
    finally:
        await engine.dispose()


def _bot_message_in(fake: Any, chat_id: int) -> Any:
    return next(m for m in fake.chat_view(chat_id) if m.from_id != 0 and m.kind == "text")


async def test_an_operator_of_another_group_cannot_claim_by_forged_accept(sqlite_url) -> None:
    async with running_desk(sqlite_url, other_groups=("sales",)) as desk:
        fake = desk.fake
        sales = desk.other_groups["sales"]
        sam = fake.add_user("Sam", "Sales", username="sam")  # an operator of "sales" only
        fake.join(sam, sales)
        fake.user_says(desk.customer, "my order is late")
        card = await eventually(desk.card)
        data = card.callback_data[0]  # the support group's Accept, e.g. "acc:1"
        # Sam needs any of the bot's messages in his own group to press on: a command's answer.
        fake.user_says(sam, "/my", chat_id=sales)
        answer = await eventually(lambda: _bot_message_in(fake, sales))
        query = fake.press(sam, sales, answer.message_id, data, forged=True)
        alert = await eventually(lambda: fake.callback_answer(query))
        assert "Only operators of this group" in (alert.get("text") or "")
        await asyncio.sleep(0.3)
        conversation = await _conversation(sqlite_url)
        assert (conversation.state, conversation.operator_id) == ("new", None)
        # The support group's own operator still takes it.
        await accept_card(desk, desk.ann, card)
        await eventually(lambda: fake.topics(desk.group_id))
        conversation = await _conversation(sqlite_url)
        assert (conversation.state, conversation.operator_id) == ("accepted", desk.ann.id)


async def test_a_forged_transfer_from_another_group_changes_nothing(sqlite_url) -> None:
    async with running_desk(sqlite_url, other_groups=("sales",)) as desk:
        fake = desk.fake
        sales = desk.other_groups["sales"]
        fake.user_says(desk.customer, "help")
        await accept_card(desk, desk.ann, await eventually(desk.card))
        await eventually(lambda: fake.topics(desk.group_id))
        conversation = await _conversation(sqlite_url)
        # Bob is in both groups; pressing in "sales", he forges a transfer of support's
        # conversation to himself.
        fake.user_says(desk.bob, "/my", chat_id=sales)
        answer = await eventually(lambda: _bot_message_in(fake, sales))
        data = f"trf:{conversation.id}:{desk.bob.id}"
        query = fake.press(desk.bob, sales, answer.message_id, data, forged=True)
        alert = await eventually(lambda: fake.callback_answer(query))
        assert "Only operators of this group" in (alert.get("text") or "")
        await asyncio.sleep(0.3)
        after = await _conversation(sqlite_url)
        assert after.operator_id == desk.ann.id
