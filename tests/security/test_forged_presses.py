"""Forged button presses across groups: callback data is whatever a (modified) client sends, so
an operator of one group must not claim or transfer another group's conversations."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.models import Conversation, DeadLetter
from tests.desk.desk_harness import accept_card, eventually, running_desk
from tests.security.abuse import LEDGER

ACROSS = LEDGER.attack("forged Accept/Transfer presses across groups")
FOREIGN = LEDGER.attack("forged presses for closed or unknown conversations")


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
        ACROSS.count(200, succeeded=conversation.operator_id is not None)
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
        ACROSS.count(200, succeeded=after.operator_id != desk.ann.id)
        assert after.operator_id == desk.ann.id


async def test_forged_presses_for_closed_and_unknown_conversations_change_nothing(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "help")
        card = await eventually(desk.card)
        await accept_card(desk, desk.ann, card)
        topic = await eventually(lambda: fake.topics(desk.group_id))
        fake.user_says(desk.ann, "/close", chat_id=desk.group_id, topic=topic[-1].thread_id)
        await _wait_state(sqlite_url, "closed")
        closed = await _conversation(sqlite_url)
        forged = [
            f"acc:{closed.id}",  # Accept of the closed conversation
            f"trf:{closed.id}:{desk.bob.id}",  # its transfer to Bob
            "acc:999999",  # a conversation that does not exist
            f"trf:999999:{desk.bob.id}",
            "acc:-1",
            "acc:" + "9" * 40,  # past every integer type
            "trf:1:" + "9" * 40,
            "acc:1;DROP TABLE conversations",
            "zzz:1",  # no such button
        ]
        queries = [
            fake.press(desk.bob, desk.group_id, card.message_id, data, forged=True)
            for data in forged
        ]
        # Every press the desk understands is answered (an alert), the rest are ignored.
        await eventually(lambda: all(fake.callback_answer(q) for q in queries[:4]))
        await asyncio.sleep(0.5)
        after = await _conversation(sqlite_url)
        async with desk.service.runtime.sessions() as session:
            crashed = len((await session.exec(select(DeadLetter))).all())
        for _ in forged:
            # A press that crashed its handler would be kept as a dead letter: count it as a 5xx.
            FOREIGN.count(
                500 if crashed else 200,
                succeeded=after.state != "closed" or after.operator_id != desk.ann.id,
            )
        assert crashed == 0
        assert (after.state, after.operator_id) == ("closed", desk.ann.id)
        # The service kept working: a new message opens a new conversation with a card.
        fake.user_says(desk.customer, "still there?")
        await eventually(lambda: desk.card(1))


async def _wait_state(database: str, state: str) -> None:
    for _ in range(200):
        if (await _conversation(database)).state == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the conversation never became {state}")
