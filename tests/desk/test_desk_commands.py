"""Commands in a conversation's place, and anywhere: through the fake Telegram end to end."""

from __future__ import annotations

import asyncio

from desk_harness import accepted, eventually, running_desk

from desk.callbacks import TransferCallback
from storage.db import create_engine, session_factory
from storage.messages import conversation_messages


def says_in(desk, topic: int, needle: str) -> bool:
    return any(needle in (m.text or "") for m in desk.topic_messages(topic))


async def test_close_closes_the_topic_and_says_goodbye_in_the_customers_language(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.ann, "/close", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "Conversation #1 closed by Ann"))
        await eventually(lambda: [t for t in fake.topics(desk.group_id) if t.closed])
        goodbye = await eventually(
            lambda: [m for m in desk.customer_sees() if "Спасибо" in (m.text or "")]
        )
        assert goodbye
        await eventually(lambda: "Closed" in desk.card().caption)
        # The customer comes back: a new conversation, linked to the previous one, same topic.
        fake.user_says(desk.customer, "me again")
        second = await eventually(lambda: (c := desk.card()) and "#2" in c.caption and c)
        assert "Previous conversation: #1" in second.caption
        query = fake.press(desk.bob, desk.group_id, second.message_id, second.callback_data[0])
        await eventually(lambda: fake.callback_answer(query))
        await eventually(lambda: says_in(desk, topic, "me again"), what="reopened topic")
        assert [t.closed for t in fake.topics(desk.group_id)] == [False]


async def test_close_by_someone_else_is_refused_with_the_claimers_name(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        topic = await accepted(desk, desk.ann)
        desk.fake.user_says(desk.bob, "/close", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "Only Ann Operator, who accepted"))
        assert not [t for t in desk.fake.topics(desk.group_id) if t.closed]


async def test_release_puts_a_fresh_card_reusing_the_uploaded_avatar(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        topic = await accepted(desk, desk.ann)
        desk.fake.user_says(desk.ann, "/release", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "released conversation #1"))
        cards = await eventually(
            lambda: (
                (cs := [m for m in desk.fake.chat_view(desk.group_id) if m.kind == "photo"])
                and len(cs) == 2
                and cs
            )
        )
        assert cards[-1].callback_data and "#1" in cards[-1].caption
        # The fresh card reuses the avatar Telegram already has: no second upload.
        posted = desk.fake.calls("sendPhoto", status=200)
        uploaded_file_id = posted[0].result["photo"][-1]["file_id"]
        assert not str(posted[0].params.get("photo", "")).startswith(uploaded_file_id)
        assert posted[1].params["photo"] == uploaded_file_id


async def test_transfer_offers_operators_and_tells_the_new_one(sqlite_url) -> None:
    async with running_desk(sqlite_url, operators_list=True) as desk:
        fake = desk.fake
        fake.user_says(desk.bob, "/start")  # Bob can now get private messages
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.bob, "looking", chat_id=desk.group_id, topic=topic)  # a note
        fake.user_says(desk.ann, "/transfer", chat_id=desk.group_id, topic=topic)
        offer = await eventually(
            lambda: [m for m in desk.topic_messages(topic) if m.callback_data]
        )
        data = TransferCallback(conversation=1, operator=desk.bob.id).pack()
        assert data in offer[0].callback_data
        query = fake.press(desk.ann, desk.group_id, offer[0].message_id, data)
        answer = await eventually(lambda: fake.callback_answer(query))
        assert "Transferred to Bob Operator" in answer["text"]
        await eventually(lambda: says_in(desk, topic, "transferred from Ann Operator to Bob"))
        await eventually(
            lambda: any(
                "transferred conversation #1" in (m.text or "")
                for m in fake.chat_view(desk.bob.id)
            )
        )
        fake.user_says(desk.bob, "Bob here", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: any("Bob here" in (m.text or "") for m in desk.customer_sees()))


async def test_history_block_and_unblock(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.ann, "/history", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "History of #1"))
        assert says_in(desk, topic, "I need help")
        fake.user_says(desk.ann, "/block", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "The customer is blocked"))
        fake.user_says(desk.customer, "spam spam")
        await asyncio.sleep(0.6)
        assert not says_in(desk, topic, "spam spam")
        fake.user_says(desk.ann, "/unblock", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "The customer is unblocked"))
        fake.user_says(desk.customer, "sorry")
        await eventually(lambda: says_in(desk, topic, "sorry"))
        engine = create_engine(desk.db)
        async with session_factory(engine)() as session:
            texts = [m.text for m in await conversation_messages(session, 1)]
        await engine.dispose()
        assert "spam spam" in texts  # stored, never posted


async def test_my_and_help_in_private_and_refusal_for_strangers(sqlite_url) -> None:
    async with running_desk(sqlite_url, operators_list=True) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.customer, "still there?")
        await eventually(lambda: says_in(desk, topic, "still there?"))
        fake.user_says(desk.ann, "/my")
        mine = await eventually(
            lambda: [m for m in fake.chat_view(desk.ann.id) if "Your open" in (m.text or "")]
        )
        assert "#1 · Иван <b>Петров</b> · Telegram · new messages" in mine[0].text
        assert "yours with new messages: 1" in mine[0].text
        fake.user_says(desk.ann, "/help")
        await eventually(
            lambda: any("/transfer" in (m.text or "") for m in fake.chat_view(desk.ann.id))
        )
        fake.user_says(desk.eve, "/close", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: says_in(desk, topic, "Only operators of this group can use"))
