"""End to end: a Telegram customer, the operators' forum, the real service and aiogram."""

from __future__ import annotations

import asyncio

from desk_harness import eventually, running_desk

from desk.callbacks import AcceptCallback


async def test_customer_message_posts_a_card_with_accept_and_escaped_name(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        desk.fake.user_says(desk.customer, "hello <i>there</i>")
        card = await eventually(desk.card, what="the card")
        assert "Иван &lt;b&gt;Петров&lt;/b&gt;" not in (card.caption or "")  # shown decoded
        assert "<b>Петров</b>" in card.caption  # the literal tag text the operators see
        assert "hello <i>there</i>" in card.caption
        assert "#1" in card.caption
        assert card.callback_data == [AcceptCallback(conversation=1).pack()]


async def test_accept_makes_a_topic_with_the_history_and_relays_replies(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "first")
        card = await eventually(desk.card)
        fake.user_says(desk.customer, "second")
        await eventually(lambda: "second" in desk.card().caption, what="folded")
        query = fake.press(desk.ann, desk.group_id, card.message_id, card.callback_data[0])
        answer = await eventually(lambda: fake.callback_answer(query), what="the answer")
        assert "yours" in answer["text"]
        topic = await eventually(
            lambda: fake.topic_by_name(desk.group_id, "Иван <b>Петров</b> · Telegram")
        )
        await eventually(
            lambda: any("second" in (m.text or "") for m in desk.topic_messages(topic.thread_id)),
            what="history in the topic",
        )
        await eventually(lambda: "Accepted by Ann" in desk.card().caption, what="accepted")
        card = desk.card()
        assert card.callback_data == []
        fake.user_says(desk.customer, "third")
        await eventually(
            lambda: any("third" in (m.text or "") for m in desk.topic_messages(topic.thread_id))
        )
        fake.user_says(
            desk.ann, "Hello, <b>how</b> can I help?", chat_id=desk.group_id, topic=topic.thread_id
        )
        fake.user_says(desk.bob, "internal remark", chat_id=desk.group_id, topic=topic.thread_id)
        seen = await eventually(lambda: [m for m in desk.customer_sees() if m.text])
        assert "Hello, <b>how</b> can I help?" in seen[0].text
        await eventually(
            lambda: any(
                "internal notes" in (m.text or "") for m in desk.topic_messages(topic.thread_id)
            )
        )
        await asyncio.sleep(0.5)
        assert not any("internal remark" in (m.text or "") for m in desk.customer_sees())


async def test_two_simultaneous_accepts_have_one_winner(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "help")
        card = await eventually(desk.card)
        data = card.callback_data[0]
        first = fake.press(desk.ann, desk.group_id, card.message_id, data)
        second = fake.press(desk.bob, desk.group_id, card.message_id, data)
        answers = await eventually(
            lambda: (
                [a for q in (first, second) if (a := fake.callback_answer(q))]
                if all(fake.callback_answer(q) for q in (first, second))
                else None
            )
        )
        texts = sorted(a["text"] for a in answers)
        assert texts[0] == "Already accepted by Ann Operator."
        assert texts[1] == "The conversation is yours."
        await eventually(lambda: "Accepted by Ann" in desk.card().caption)
        await asyncio.sleep(0.3)
        topics = [t for t in fake.topics(desk.group_id) if not t.deleted]
        assert len(topics) == 1


async def test_non_operator_press_and_command_are_refused(sqlite_url) -> None:
    async with running_desk(sqlite_url, operators_list=True) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "help")
        card = await eventually(desk.card)
        query = fake.press(desk.eve, desk.group_id, card.message_id, card.callback_data[0])
        answer = await eventually(lambda: fake.callback_answer(query))
        assert answer["text"].startswith("Only operators of this group")
        assert answer.get("show_alert")
        assert "Accept" in str(desk.card().buttons)
        fake.user_says(desk.eve, "/my", chat_id=desk.group_id)
        await eventually(
            lambda: any(
                "Only operators of this group can use this command" in (m.text or "")
                for m in fake.chat_view(desk.group_id)
            )
        )
