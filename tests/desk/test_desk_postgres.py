"""The core flow end to end on PostgreSQL: the accept race, the relay both ways, an edit."""

from __future__ import annotations

import asyncio

from desk_harness import eventually, running_desk

from storage.db import create_engine, session_factory
from storage.messages import conversation_messages


async def test_simultaneous_accepts_on_postgresql_have_one_winner(pg_url) -> None:
    async with running_desk(pg_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "help")
        card = await eventually(desk.card)
        data = card.callback_data[0]
        pressers = [desk.ann, desk.bob, desk.eve, desk.ann, desk.bob]
        queries = [fake.press(user, desk.group_id, card.message_id, data) for user in pressers]
        answers = await eventually(
            lambda: (
                [fake.callback_answer(q) for q in queries]
                if all(fake.callback_answer(q) for q in queries)
                else None
            ),
            what="every press answered",
        )
        texts = [a["text"] for a in answers]
        assert texts.count("The conversation is yours.") == 1
        winner = pressers[texts.index("The conversation is yours.")].full_name
        assert all(t == f"Already accepted by {winner}." for t in texts if "yours" not in t)
        await eventually(lambda: f"Accepted by {winner}" in desk.card().caption)
        await asyncio.sleep(0.3)
        assert len([t for t in fake.topics(desk.group_id) if not t.deleted]) == 1


async def test_replies_are_relayed_both_ways_on_postgresql(pg_url) -> None:
    async with running_desk(pg_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "first")
        card = await eventually(desk.card)
        query = fake.press(desk.ann, desk.group_id, card.message_id, card.callback_data[0])
        fake.user_says(desk.customer, "during the accept")
        await eventually(lambda: fake.callback_answer(query))
        topic = (await eventually(lambda: fake.topics(desk.group_id)))[0].thread_id

        def topic_text() -> str:
            return "\n".join(m.text or "" for m in desk.topic_messages(topic))

        await eventually(lambda: "first" in topic_text() and "during the accept" in topic_text())
        assert topic_text().count("during the accept") == 1
        sent = fake.user_says(desk.ann, "How can I help?", chat_id=desk.group_id, topic=topic)
        fake.user_says(desk.bob, "a note", chat_id=desk.group_id, topic=topic)
        copy = (await eventually(lambda: [m for m in desk.customer_sees() if m.text]))[0]
        assert copy.text == "How can I help?"
        fake.user_says(desk.customer, "my order is late")
        await eventually(lambda: "my order is late" in topic_text())
        fake.user_edits(desk.ann, desk.group_id, sent["message_id"], "How may I help?")
        await eventually(lambda: desk.customer_message(copy.message_id).text == "How may I help?")
        await asyncio.sleep(0.3)
        assert not any("a note" in (m.text or "") for m in desk.customer_sees())
        engine = create_engine(desk.db)
        try:
            async with session_factory(engine)() as session:
                messages = await conversation_messages(session, 1)
        finally:
            await engine.dispose()
        kinds = [(m.direction, m.text, m.delivery_state) for m in messages]
        assert ("out", "How may I help?", "sent") in kinds
        assert ("note", "a note", "delivered") in kinds
        assert [t for d, t, _ in kinds if d == "in"] == [
            "first",
            "during the accept",
            "my order is late",
        ]
